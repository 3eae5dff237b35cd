"""audit.journal_checkpoint on the real broker: the head of the journal, published through the
outbox on spc.events, is the head an export of audit's database shows; the checkpoint is journaled
after it, and an idle journal publishes no more."""

import json
import os
import subprocess
import sys
import time

from tests.support import PACT, EventTap, wait_for

CHECKPOINT = "audit.journal_checkpoint"


def exported(audit_url):
    """`spc export journal` of audit's database, as outsiders get it (another process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPC_") and not k.endswith("_DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "spc.cli", "export", "journal"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env, AUDIT_DATABASE_URL=audit_url),
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_journal_head_is_published_on_spc_events_as_the_export_shows_it(cluster_factory, amqp_uri, db_url):
    tap = EventTap(amqp_uri, keys=(CHECKPOINT,))
    _, api = cluster_factory(names=("registry", "audit"), db_urls={"audit": db_url}, SPC_JOURNAL_CHECKPOINT_SECONDS="1")
    sid = api.ok("POST", "registry", "/services", "registrar", PACT)["id"]
    api.ok("POST", "registry", f"/services/{sid}/approve", "registrar")

    def settled():
        """The newest checkpoint and the export, once the checkpoint is the only entry after the
        head it publishes (the story's events all chained before it)."""
        tap.collect(wait=0.3)
        checkpoints = tap.of_type(CHECKPOINT)
        if not checkpoints:
            return None
        newest = max(checkpoints, key=lambda e: e["payload"]["seq"])
        entries = exported(db_url)
        after = entries[newest["payload"]["seq"] :]
        about = {json.loads(e["body"])["payload"].get("service_id") for e in entries}
        if [e["event_id"] for e in after] == [newest["event_id"]] and sid in about:
            return newest, entries
        return None

    newest, entries = wait_for("the newest checkpoint, journaled after the head it publishes", settled, timeout=60, interval=0.5)
    seq, head = newest["payload"]["seq"], newest["payload"]["hash"]
    assert newest["producer"] == "audit" and newest["payload"]["at"].endswith("+00:00")
    assert (entries[seq - 1]["seq"], entries[seq - 1]["hash"]) == (seq, head)
    assert entries[seq]["event_type"] == CHECKPOINT and entries[seq]["prev_hash"] == head
    assert api.ok("GET", "audit", "/journal/verify", "auditor") == {"ok": True, "length": seq + 1}

    time.sleep(3.5)  # three periods and more: its own entry moved the head, yet no checkpoint follows
    tap.collect(wait=0.5)
    assert max(e["payload"]["seq"] for e in tap.of_type(CHECKPOINT)) == seq
    assert api.ok("GET", "audit", "/journal/verify", "auditor") == {"ok": True, "length": seq + 1}
