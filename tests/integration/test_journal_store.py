"""Audit's journal store (services/audit/repository.py's Journal) on SQLite and PostgreSQL: an event is
journaled once, whichever way it came and whenever it is chained; the chainer appends what is
pending in batches, oldest first, from the genesis, under the head's lock, so two chainers at
once never fork it; the export reads entries in batches between two seqs."""

import json

import eventlet
import pytest
from sqlalchemy import select

from spc.services.audit import orm
from spc.services.audit.domain import journal
from spc.shared.core.envelope import Event
from tests.support import await_lock_waiters


@pytest.fixture
def audit_db(db_url, open_database):
    return open_database("audit", db_url)


@pytest.fixture
def audit_pg(pg_url, open_database):
    return open_database("audit", pg_url)


def approved(n, service="s"):
    return [
        Event("registry.service_approved", {"service_id": f"{service}{i}", "status": "active", "version": 2}, "registry")
        for i in range(n)
    ]


def record(database, events, how="record_many"):
    with database.uow() as u:
        getattr(u.journal, how)(events)
        u.commit()


def chain(database, limit=500):
    with database.uow() as u:
        n = u.journal.chain(limit)
        u.commit()
        return n


def table(database, t, order):
    with database.engine.connect() as conn:
        return conn.execute(select(t).order_by(order)).all()


def entries(database, **kwargs):
    with database.uow() as u:
        return list(u.journal.entries(**kwargs))


def ids(events):
    return [str(e.event_id) for e in events]


def test_an_event_is_seen_pending_and_chained_and_only_then(audit_db):
    pending, chained, never = approved(1), approved(1), approved(1)
    record(audit_db, chained)
    assert chain(audit_db) == 1
    record(audit_db, pending)
    with audit_db.uow() as u:
        assert u.journal.seen_many(ids(pending + chained + never)) == set(ids(pending + chained))
        assert u.journal.seen_many([]) == set()


def test_what_is_recorded_keeps_the_service_and_leaves_a_citizens_words_out(audit_db):
    report = Event(
        "usager.report_submitted",
        {"service_id": "svc-1", "category": "refused_access", "text": "Mme Durand, 12 rue de la Paix"},
        "ext-vox-usagers",
    )
    odd = Event("counter.upserted", {"service_id": 7}, "anct")  # not a service's id: none kept
    plain = Event("counter.closed", {"counter_id": "fs-1"}, "anct")
    record(audit_db, [report, odd, plain])
    record(audit_db, [])  # nothing: no statement, no error
    rows = table(audit_db, orm.journal_pending, orm.journal_pending.c.id)
    assert [(r.event_id, r.event_type, r.service_id) for r in rows] == [
        (str(report.event_id), "usager.report_submitted", "svc-1"),
        (str(odd.event_id), "counter.upserted", None),
        (str(plain.event_id), "counter.closed", None),
    ]
    kept = json.loads(rows[0].body)
    assert kept["payload"] == {"service_id": "svc-1", "category": "refused_access", "text": None}
    assert "Durand" not in rows[0].body and kept["event_id"] == str(report.event_id)
    assert all(r.received_at is not None for r in rows)


def test_events_received_another_way_are_journaled_unless_they_already_are(audit_db):
    chained, pending, fresh = approved(2), approved(1), approved(2)
    record(audit_db, chained)
    chain(audit_db)
    record(audit_db, pending)
    record(audit_db, chained + pending + fresh, how="record_new")
    record(audit_db, fresh[:1], how="record_new")  # alone and already there: nothing
    assert chain(audit_db) == 3
    assert [e.event_id for e in entries(audit_db)] == ids(chained + pending + fresh)


def test_the_chain_grows_from_the_genesis_in_batches_oldest_first(audit_db):
    with audit_db.uow() as u:
        assert u.journal.length() == 0 and u.journal.chain() == 0  # nothing pending: nothing chained
    events = approved(5)
    record(audit_db, events[:3])
    record(audit_db, events[3:])
    assert chain(audit_db, limit=2) == 2
    with audit_db.uow() as u:
        assert u.journal.length() == 2 and u.journal.has_pending()
    assert chain(audit_db, limit=2) == 2 and chain(audit_db, limit=2) == 1 and chain(audit_db) == 0
    chained = table(audit_db, orm.journal, orm.journal.c.seq)
    assert [r.seq for r in chained] == [1, 2, 3, 4, 5]
    assert [r.event_id for r in chained] == ids(events)
    assert [r.service_id for r in chained] == [f"s{i}" for i in range(5)]
    assert chained[0].prev_hash == journal.GENESIS
    assert [r.prev_hash for r in chained[1:]] == [r.hash for r in chained[:-1]]
    assert journal.verify(entries(audit_db)) == {"ok": True, "length": 5}
    [head] = table(audit_db, orm.journal_head, orm.journal_head.c.id)
    assert (head.id, head.seq, head.hash) == (1, 5, chained[-1].hash)
    assert head.checkpoint_seq == 0  # no checkpoint yet: the first one will cover entry 1 on
    assert table(audit_db, orm.journal_pending, orm.journal_pending.c.id) == []
    with audit_db.uow() as u:
        assert u.journal.length() == 5 and not u.journal.has_pending()


def test_the_export_reads_entries_in_batches_between_two_seqs(audit_db):
    record(audit_db, approved(5))
    chain(audit_db)
    every = entries(audit_db)
    assert [e.seq for e in every] == [1, 2, 3, 4, 5]
    assert entries(audit_db, batch=2) == every  # full batches, then a short one
    assert entries(audit_db, batch=5) == every and entries(audit_db, batch=1) == every
    assert [e.seq for e in entries(audit_db, batch=2, after=2)] == [3, 4, 5]
    assert [e.seq for e in entries(audit_db, batch=2, after=1, upto=4)] == [2, 3, 4]
    assert entries(audit_db, after=5) == [] and entries(audit_db, upto=0) == []
    with audit_db.uow() as u:
        assert [e.seq for e in u.journal.entry_batch(1, 2)] == [2, 3]
        assert [e.seq for e in u.journal.entry_batch(3, 10, upto=4)] == [4]
    assert every[2] == journal.Entry(
        3, every[2].event_id, "registry.service_approved", every[2].body, every[1].hash, every[2].hash
    )


def test_the_export_reads_past_its_first_full_batch(audit_db):
    """More entries than one batch of the default size (1,000): all of them, in order."""
    record(audit_db, approved(1_001))
    assert chain(audit_db, limit=2_000) == 1_001
    assert [e.seq for e in entries(audit_db)] == list(range(1, 1_002))


# races: PostgreSQL (on SQLite audit's writers take turns in-process)


def test_two_chainers_at_once_never_fork_the_chain_even_for_its_first_entry(audit_pg):
    """The first chainer inserts the head and holds it; the second waits, then chains after it."""
    record(audit_pg, approved(4))
    go = eventlet.Event()

    def first():
        with audit_pg.uow() as u:
            n = u.journal.chain(2)
            go.wait()
            u.commit()
            return n

    one = eventlet.spawn(first)
    eventlet.sleep(0.2)
    other = eventlet.spawn(chain, audit_pg, 2)
    await_lock_waiters(audit_pg.engine, 1, "the second chainer to wait on the head")
    go.send()
    assert (one.wait(), other.wait()) == (2, 2)
    chained = entries(audit_pg)
    assert [e.seq for e in chained] == [1, 2, 3, 4]
    assert journal.verify(chained) == {"ok": True, "length": 4}


def _racing_record_new(database, held, events):
    """`held` is recorded by a transaction left open; `record_new(events)` meanwhile in another,
    which waits on it. Returns what the second one does once the first commits."""
    go = eventlet.Event()

    def hold():
        with database.uow() as u:
            u.journal.record_many(held)
            go.wait()
            u.commit()

    def late():
        with database.uow() as u:
            u.journal.record_new(events)
            u.commit()

    one = eventlet.spawn(hold)
    eventlet.sleep(0.2)
    other = eventlet.spawn(late)
    await_lock_waiters(database.engine, 1, "record_new to wait on the same event id")
    go.send()
    one.wait()
    return other


def test_a_lone_event_journaled_meanwhile_by_another_lane_is_skipped_not_an_error(audit_pg):
    event = approved(1)
    _racing_record_new(audit_pg, event, event).wait()  # no error: its transaction goes on
    assert [r.event_id for r in table(audit_pg, orm.journal_pending, orm.journal_pending.c.id)] == ids(event)


def test_a_batch_meeting_an_event_journaled_meanwhile_skips_it_and_journals_the_rest(audit_pg):
    event, other = approved(1), approved(1)
    _racing_record_new(audit_pg, event, event + other).wait()  # no error: the rest goes on
    assert [r.event_id for r in table(audit_pg, orm.journal_pending, orm.journal_pending.c.id)] == ids(event + other)
    assert chain(audit_pg) == 2
