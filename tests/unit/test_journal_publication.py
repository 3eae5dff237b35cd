"""The journal as others hold it, with nothing running: when the head is published
(checkpoints), what a line of the export holds, and the checkpoint setting."""

import hashlib
import json
from datetime import datetime, timedelta

import pytest

from spc.services.audit.domain import journal
from spc.services.audit.domain.journal import JournalHead
from spc.services.audit.settings import journal_checkpoint_seconds
from spc.shared.core import envelope

T0 = datetime(2026, 11, 26, 10, 0, 0)


def head(seq=5, checkpoint_seq=0, checkpoint_at=T0):
    return JournalHead(seq, "ab" * 32, checkpoint_seq, checkpoint_at)


def test_the_head_is_published_once_the_period_has_passed_since_the_chain_began():
    h = head()
    assert not h.checkpoint(T0 + timedelta(seconds=299), 300, moved=True)
    assert h.pull_events() == []
    assert h.checkpoint(T0 + timedelta(seconds=300), 300, moved=True)
    [event] = h.pull_events()
    assert (event.event_type, event.seq, event.hash, event.at) == (
        "audit.journal_checkpoint",
        5,
        "ab" * 32,
        "2026-11-26T10:05:00+00:00",
    )
    assert (h.checkpoint_seq, h.checkpoint_at) == (5, T0 + timedelta(seconds=300))
    envelope.new_event(event.event_type, {"seq": event.seq, "hash": event.hash, "at": event.at}, "audit")


def test_a_head_moved_only_by_checkpoints_is_not_published_again():
    h = head(seq=6, checkpoint_seq=5)  # entry 6 is the checkpoint of entry 5, journaled
    assert not h.checkpoint(T0 + timedelta(days=1), 300, moved=False)
    assert h.pull_events() == []


def test_an_empty_journal_or_one_already_published_publishes_nothing():
    assert not JournalHead().checkpoint(T0, 0, moved=False)
    assert not head(seq=5, checkpoint_seq=5).checkpoint(T0 + timedelta(days=1), 300, moved=True)


def test_a_head_never_published_before_the_migration_is_due_at_once():
    assert head(checkpoint_at=None).checkpoint(T0, 300, moved=True)


def test_an_export_line_holds_what_recomputing_the_hash_needs_in_ascii():
    body = journal.canonical({"payload": {"name": "Crèche « Les Lutins »\u2028"}})
    entry = journal.next_entry(0, journal.GENESIS, "e1", "registry.service_approved", body)
    line = journal.export_line(entry)
    assert line.isascii() and "\n" not in line
    record = json.loads(line)
    assert list(record) == ["seq", "prev_hash", "event_id", "event_type", "body", "hash"]
    assert record["body"] == body
    material = "\n".join([str(record["seq"]), record["prev_hash"], record["event_id"], record["event_type"], record["body"]])
    assert hashlib.sha256(material.encode("utf-8")).hexdigest() == record["hash"] == entry.hash


@pytest.mark.parametrize("raw, seconds", [(None, 300.0), ("", 300.0), ("60", 60.0), ("0.5", 0.5)])
def test_the_checkpoint_period_comes_from_the_environment(raw, seconds):
    environ = {} if raw is None else {"SPC_JOURNAL_CHECKPOINT_SECONDS": raw}
    assert journal_checkpoint_seconds(environ) == seconds


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "nan", "inf"])
def test_a_checkpoint_period_that_is_not_a_positive_number_is_refused(raw):
    with pytest.raises(ValueError, match="SPC_JOURNAL_CHECKPOINT_SECONDS"):
        journal_checkpoint_seconds({"SPC_JOURNAL_CHECKPOINT_SECONDS": raw})


def test_a_head_due_long_ago_is_published_at_once():
    """Any time past the period, not only on its exact second (a service that was down)."""
    assert head().checkpoint(T0 + timedelta(hours=5), 300, moved=True)
