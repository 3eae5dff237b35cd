"""The append-only journal: each entry carries the hash of the previous one (pure Python)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

# Optional[X], not X | None: the mutation run (tests/mutation) would mutate the `|`, in annotations too
from typing import Any, Iterable, Mapping, Optional

from spc.shared.core.clock import to_wire
from spc.shared.core.domain import Aggregate

from .events import JournalCheckpoint

GENESIS = "0" * 64
CHECKPOINT = JournalCheckpoint.event_type


@dataclass
class Entry:
    seq: int
    event_id: str
    event_type: str
    body: str
    prev_hash: str
    hash: str


def canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# Payload fields the journal never keeps: personal data, which an append-only chain could never
# purge. The entry keeps the field, null (a value the event's schema never allows, so a reader
# knows it was left out); the report itself keeps the text until its retention ends.
PERSONAL_FIELDS: dict[Optional[str], tuple[str, ...]] = {"usager.report_submitted": ("text",)}


def journaled(document: Mapping[str, Any]) -> tuple[str, Optional[str]]:
    """(the body the journal keeps of an envelope `document`, the service it concerns or None)."""
    payload = document.get("payload") or {}
    personal = PERSONAL_FIELDS.get(document.get("event_type"), ())
    if personal:
        document = {**document, "payload": {k: None if k in personal else v for k, v in payload.items()}}
    service_id = payload.get("service_id")
    return canonical(document), service_id if isinstance(service_id, str) else None


def entry_hash(seq: int, prev_hash: str, event_id: str, event_type: str, body: str) -> str:
    material = "\n".join([str(seq), prev_hash, event_id, event_type, body])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def next_entry(head_seq: int, head_hash: str, event_id: str, event_type: str, body: str) -> Entry:
    seq = head_seq + 1
    return Entry(seq, event_id, event_type, body, head_hash, entry_hash(seq, head_hash, event_id, event_type, body))


def verify(entries: Iterable[Entry]) -> dict[str, Any]:
    """Recompute the chain; returns {"ok": True, "length": N} or {"ok": False, "first_bad_seq": K}."""
    prev, expected_seq, length = GENESIS, 1, 0
    for e in entries:
        if (
            e.seq != expected_seq
            or e.prev_hash != prev
            or e.hash != entry_hash(e.seq, e.prev_hash, e.event_id, e.event_type, e.body)
        ):
            return {"ok": False, "first_bad_seq": expected_seq if e.seq != expected_seq else e.seq}
        prev, expected_seq, length = e.hash, expected_seq + 1, length + 1
    return {"ok": True, "length": length}


# What an export line holds (docs/verify-journal.md), in this order: the four fields the hash
# covers with the previous hash, and the hash itself.
EXPORTED = ("seq", "prev_hash", "event_id", "event_type", "body", "hash")


def export_line(entry: Entry) -> str:
    """One entry as a line of the JSON Lines export (ASCII: anything else is escaped \\uXXXX, so
    the line has no character a reader could take for a line break; `body` is kept as the exact
    string that was hashed)."""
    return json.dumps({name: getattr(entry, name) for name in EXPORTED}, ensure_ascii=True, separators=(",", ":"))


class JournalHead(Aggregate):
    """The chain's head (its newest entry's seq and hash) and the last checkpoint published of it.

    A checkpoint publishes the head (`audit.journal_checkpoint`) so that outsiders can hold it. It
    is itself an event on spc.events, so the journal journals it and the head moves again: a
    checkpoint is due only when the journal has moved by some *other* event since the last one
    (`moved`), so an idle journal publishes one checkpoint, not one per period forever. The period
    starts when the chain does (the head row is made with `checkpoint_at`)."""

    def __init__(
        self, seq: int = 0, hash: str = GENESIS, checkpoint_seq: int = 0, checkpoint_at: Optional[datetime] = None, id: int = 1
    ) -> None:
        self.id, self.seq, self.hash = id, seq, hash
        self.checkpoint_seq, self.checkpoint_at = checkpoint_seq, checkpoint_at

    def checkpoint(self, now: datetime, every_seconds: float, moved: bool) -> bool:
        """Publish the head if it is due: the journal `moved` (by an event other than a checkpoint)
        after the last checkpoint, at least `every_seconds` after it. Returns whether it did."""
        waited = self.checkpoint_at is None or (now - self.checkpoint_at).total_seconds() >= every_seconds
        if not (waited and moved and self.seq > self.checkpoint_seq):
            return False
        self.checkpoint_seq, self.checkpoint_at = self.seq, now
        self._record(JournalCheckpoint(seq=self.seq, hash=self.hash, at=to_wire(now)))
        return True
