"""The append-only journal: each entry carries the hash of the previous one (pure Python)."""
import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass
class Entry:
    seq: int
    event_id: str
    event_type: str
    body: str
    prev_hash: str
    hash: str


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Payload fields the journal never keeps: personal data, which an append-only chain could never
# purge. The entry keeps the field, null (a value the event's schema never allows, so a reader
# knows it was left out); the report itself keeps the text until its retention ends.
PERSONAL_FIELDS = {"usager.report_submitted": ("text",)}


def journaled(document):
    """(the body the journal keeps of an envelope `document`, the service it concerns or None)."""
    payload = document.get("payload") or {}
    personal = PERSONAL_FIELDS.get(document.get("event_type"), ())
    if personal:
        document = {**document, "payload": {k: None if k in personal else v for k, v in payload.items()}}
    service_id = payload.get("service_id")
    return canonical(document), service_id if isinstance(service_id, str) else None


def entry_hash(seq, prev_hash, event_id, event_type, body):
    material = "\n".join([str(seq), prev_hash, event_id, event_type, body])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def next_entry(head_seq, head_hash, event_id, event_type, body):
    seq = head_seq + 1
    return Entry(seq, event_id, event_type, body, head_hash,
                 entry_hash(seq, head_hash, event_id, event_type, body))


def verify(entries):
    """Recompute the chain; returns {"ok": True, "length": N} or {"ok": False, "first_bad_seq": K}."""
    prev, expected_seq, length = GENESIS, 1, 0
    for e in entries:
        if (e.seq != expected_seq or e.prev_hash != prev
                or e.hash != entry_hash(e.seq, e.prev_hash, e.event_id, e.event_type, e.body)):
            return {"ok": False, "first_bad_seq": expected_seq if e.seq != expected_seq else e.seq}
        prev, expected_seq, length = e.hash, expected_seq + 1, length + 1
    return {"ok": True, "length": length}
