"""apply_once and apply_batch (shared/messaging/consumer.py) on SQLite and PostgreSQL: an event's effect and
its id commit together or not at all; a redelivery, a copy in the same batch or a copy another
worker is applying at the same moment is recognised and applied nowhere; a database that goes
away, or a connection cut mid-transaction, holds the event until it can be applied."""

import json
import logging
from datetime import datetime, timedelta, timezone

import eventlet
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from spc.shared.messaging import consumer
from spc.shared.observe import failpoints
from spc.shared.messaging.consumer import _outcomes, _watch, apply_batch, apply_once
from spc.shared.core.envelope import Event
from spc.shared.observe.metrics import ServiceMetrics
from tests.servers import refuse_connections
from tests.support import await_lock_waiters


@pytest.fixture
def db(db_url, open_database):
    return open_database("funding", db_url)


@pytest.fixture
def pg_db(pg_url, open_database):
    return open_database("funding", pg_url)


class Effects:
    """A use case whose effect is a row in the outbox per event it was given; remembers its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, uow, events):
        self.calls.append([str(e.event_id) for e in events])
        for event in events:
            uow.outbox.add(Event("test.applied", {"of": str(event.event_id)}, "test"))

    def one(self, uow, event):
        self(uow, [event])


def effects_in(db):
    """The ids of the events whose effect committed, one per effect."""
    with db.uow() as u:
        rows = u.session.execute(select(u.outbox_table.c.body)).all()
    return sorted(json.loads(r.body)["payload"]["of"] for r in rows)


def recorded(db, batch):
    with db.uow() as u:
        return u.inbox.seen_many([e.event_id for e in batch])


def value(metrics, name, event_type):
    return metrics.registry.get_sample_value(name, {"event_type": event_type}) or 0


def event(event_type="registry.service_approved", **kw):
    return Event(event_type, {"service_id": "s1"}, "test", **kw)


def test_an_event_is_applied_once_and_its_copies_are_counted_as_duplicates(db):
    metrics, apply = ServiceMetrics("funding"), Effects()
    first = event()
    copy = Event(first.event_type, first.payload, "test", event_id=first.event_id)
    assert apply_once(db.uow(), first, apply.one, metrics) is True
    assert apply_once(db.uow(), copy, apply.one, metrics) is False
    assert apply.calls == [[str(first.event_id)]]
    assert effects_in(db) == [str(first.event_id)] and recorded(db, [first]) == {str(first.event_id)}
    assert value(metrics, "spc_funding_events_consumed_total", first.event_type) == 1
    assert value(metrics, "spc_funding_duplicates_ignored_total", first.event_type) == 1
    assert value(metrics, "spc_funding_event_delivery_seconds_count", first.event_type) == 1


def test_the_delivery_time_runs_from_the_events_occurrence_and_is_never_negative(db):
    metrics = ServiceMetrics("funding")
    old = event(occurred_at=datetime.now(timezone.utc) - timedelta(seconds=40))
    ahead = event("registry.service_suspended", occurred_at=datetime.now(timezone.utc) + timedelta(hours=1))
    apply_once(db.uow(), old, Effects().one, metrics)
    apply_once(db.uow(), ahead, Effects().one, metrics)  # a producer whose clock runs ahead
    took = value(metrics, "spc_funding_event_delivery_seconds_sum", old.event_type)
    assert 40 <= took < 100
    assert value(metrics, "spc_funding_event_delivery_seconds_sum", ahead.event_type) == 0.0
    assert value(metrics, "spc_funding_event_delivery_seconds_count", ahead.event_type) == 1


def test_a_batch_applies_each_fresh_event_once_in_order_and_skips_the_rest(db):
    metrics, apply = ServiceMetrics("funding"), Effects()
    done, a, b = event(), event(), event()
    apply_once(db.uow(), done, apply.one)
    twin = Event(a.event_type, a.payload, "test", event_id=a.event_id)  # a copy in the same batch
    batch = [done, a, twin, b]
    _watch(batch)
    assert apply_batch(db.uow(), batch, apply, metrics) == 2
    assert _outcomes(batch) == ["duplicate", "applied", "duplicate", "applied"]
    assert apply.calls[1:] == [[str(a.event_id), str(b.event_id)]]
    assert effects_in(db) == sorted(str(e.event_id) for e in (done, a, b))
    assert value(metrics, "spc_funding_duplicates_ignored_total", a.event_type) == 2
    assert value(metrics, "spc_funding_events_consumed_total", a.event_type) == 2


def test_a_batch_of_duplicates_calls_no_use_case(db):
    apply = Effects()
    batch = [event(), event()]
    assert apply_batch(db.uow(), batch, apply) == 2
    assert apply_batch(db.uow(), batch, apply) == 0
    assert len(apply.calls) == 1


def test_the_transaction_carries_the_events_correlation_and_its_staff_actor(db):
    seen = []

    def look(uow, events):
        seen.append((uow.correlation_id, uow.actor))

    own = event(correlation_id="corr-1", actor="registrar/alice")
    bare = event()
    inbound = Event("compliance.violation_reported", {}, "outside", correlation_id="c", actor="registrar/eve")
    for e in (own, bare, inbound):
        apply_batch(db.uow(), [e], look)
    assert seen == [
        ("corr-1", "registrar/alice"),
        (str(bare.event_id), None),
        ("c", None),
    ]  # an outside publisher's envelope attributes nothing to staff
    # a batch's transaction carries its first event's
    first, second = event(actor="auditor/bob"), event(actor="registrar/alice")
    apply_batch(db.uow(), [first, second], look)
    apply_batch(
        db.uow(), [event(actor="auditor/carol", correlation_id="k"), Event("compliance.violation_reported", {}, "outside")], look
    )
    assert seen[3:] == [(str(first.event_id), "auditor/bob"), ("k", "auditor/carol")]


def test_a_failed_transaction_keeps_neither_the_effect_nor_the_id(db):
    apply, first = Effects(), event()
    failpoints.configure("handler.before_commit=raise@1")
    try:
        with pytest.raises(RuntimeError):
            apply_once(db.uow(), first, apply.one)
    finally:
        failpoints.configure("")
    assert effects_in(db) == [] and recorded(db, [first]) == set()
    assert apply_once(db.uow(), first, apply.one) is True  # the redelivery applies it
    assert effects_in(db) == [str(first.event_id)]


def test_a_use_case_breaking_a_constraint_of_its_own_is_an_error_not_a_duplicate(db):
    second = event()

    def clash(uow, e):  # two outbox rows under one event id
        twice = Event("test.applied", {}, "test")
        uow.outbox.add(twice)
        uow.outbox.add(twice)

    with pytest.raises(IntegrityError):
        apply_once(db.uow(), second, clash)
    assert recorded(db, [second]) == set() and effects_in(db) == []


def test_a_database_error_while_the_database_answers_is_raised_at_once(db):
    metrics, calls = ServiceMetrics("funding"), []

    def broken(uow, e):
        calls.append(e)
        uow.session.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(DBAPIError):
        apply_once(db.uow(), event(), broken, metrics)
    assert len(calls) == 1 and metrics.registry.get_sample_value("spc_funding_database_waits_total") == 0


# races and outages: PostgreSQL (on SQLite the service's writers take turns in-process)


def test_a_copy_applied_by_another_worker_at_the_same_moment_is_a_duplicate(pg_db):
    """The second worker's insert of the id waits on the first's; when the first commits, it
    fails, and the worker finds the id recorded: a duplicate, its use case never called."""
    metrics, first, second = ServiceMetrics("funding"), Effects(), Effects()
    fact = event()
    copy = Event(fact.event_type, fact.payload, "test", event_id=fact.event_id)
    go = eventlet.Event()

    def slow(uow, events):
        first(uow, events)
        go.wait()

    one = eventlet.spawn(apply_batch, pg_db.uow(), [fact], slow)
    eventlet.sleep(0.2)
    other = eventlet.spawn(apply_batch, pg_db.uow(), [copy], second, metrics)
    await_lock_waiters(pg_db.engine, 1, "the copy's worker to wait on the first one's id")
    go.send()
    assert one.wait() == 1 and other.wait() == 0  # applied: none
    assert second.calls == [] and effects_in(pg_db) == [str(fact.event_id)]
    assert value(metrics, "spc_funding_duplicates_ignored_total", fact.event_type) == 1


def test_a_batch_meeting_a_copy_in_flight_applies_the_rest_and_counts_the_copy_a_duplicate(pg_db):
    """The batch's insert of the ids waits on the copy's; when that commits, the batch goes on
    with its other events (ON CONFLICT DO NOTHING): nothing of the batch is lost, nothing applied
    twice, and its use case sees only the other event."""
    metrics, fact, other, applied = ServiceMetrics("funding"), event(), event(), Effects()
    go = eventlet.Event()

    def slow(uow, events):
        Effects()(uow, events)
        go.wait()

    one = eventlet.spawn(apply_batch, pg_db.uow(), [fact], slow)
    eventlet.sleep(0.2)
    batch = eventlet.spawn(
        apply_batch, pg_db.uow(), [Event(fact.event_type, {}, "t", event_id=fact.event_id), other], applied, metrics
    )
    await_lock_waiters(pg_db.engine, 1, "the batch to wait on the first one's id")
    go.send()
    assert one.wait() == 1 and batch.wait() == 1
    assert applied.calls == [[str(other.event_id)]]
    assert recorded(pg_db, [fact, other]) == {str(fact.event_id), str(other.event_id)}
    assert sorted(effects_in(pg_db)) == sorted([str(fact.event_id), str(other.event_id)])
    assert value(metrics, "spc_funding_duplicates_ignored_total", fact.event_type) == 1


def test_a_copy_whose_first_worker_rolls_back_is_applied_by_the_copy(pg_db):
    """The copy waits on the first worker's id; the first fails and rolls back; the copy's insert
    then goes through and the copy is applied: an event is never lost to a failed first try."""
    fact = event()
    copy, applied = Event(fact.event_type, fact.payload, "test", event_id=fact.event_id), Effects()
    go = eventlet.Event()

    def failing(uow, events):
        go.wait()
        raise RuntimeError("the first worker's use case fails")

    one = eventlet.spawn(apply_batch, pg_db.uow(), [fact], failing)
    eventlet.sleep(0.2)
    other = eventlet.spawn(apply_batch, pg_db.uow(), [copy], applied)
    await_lock_waiters(pg_db.engine, 1, "the copy's worker to wait on the first one's id")
    go.send()
    with pytest.raises(RuntimeError):
        one.wait()
    assert other.wait() == 1 and len(applied.calls) == 1
    assert recorded(pg_db, [fact]) == {str(fact.event_id)} and effects_in(pg_db) == [str(fact.event_id)]


def test_an_unreachable_database_holds_the_event_until_it_answers_then_applies_it_once(pg_db, pg_url, caplog):
    metrics, apply, fact = ServiceMetrics("funding"), Effects(), event()
    outage = []

    def cut_then_write(uow, events):
        if not outage:  # the database goes away in the middle of the transaction
            outage.append(True)
            refuse_connections(pg_url, True)
            eventlet.spawn_after(1.5, refuse_connections, pg_url, False)
        apply(uow, events)
        uow.session.execute(text("SELECT 1"))

    with caplog.at_level(logging.WARNING, logger="spc.shared.messaging.consumer"):
        assert apply_batch(pg_db.uow(), [fact], cut_then_write, metrics) == 1
    waits = metrics.registry.get_sample_value("spc_funding_database_waits_total")
    assert waits >= 2  # tried again and again while it refused connections
    held = [r.getMessage() for r in caplog.records if "database unreachable" in r.getMessage()]
    assert len(held) == waits and held[0].endswith("holding them, try 1") and held[1].endswith("try 2")
    # one line each, with the error's first line only (not SQLAlchemy's statement or its link)
    assert all(line.startswith("database unreachable while applying 1 event(s) (") for line in held)
    assert not [line for line in held if "\n" in line or "[SQL" in line or "sqlalche.me" in line], held
    assert effects_in(pg_db) == [str(fact.event_id)] and recorded(pg_db, [fact]) == {str(fact.event_id)}


def test_a_transaction_whose_connection_is_cut_is_tried_again_though_the_database_answers(pg_db, pg_url):
    """A failover or a restart: the connection dies in the middle of the transaction while a new
    one works at once (the standby promoted). Held and tried again, not raised (which would cost
    the message one of its bounded attempts, and more on every cut); applied once."""
    from spc.shared.sql.persistence import make_engine

    metrics, apply, fact = ServiceMetrics("funding"), Effects(), event()
    admin, cut = make_engine(pg_url), []

    def cut_then_write(uow, events):
        apply(uow, events)
        if not cut:
            cut.append(True)
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar()
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        uow.session.execute(text("SELECT 1"))

    try:
        assert apply_batch(pg_db.uow(), [fact], cut_then_write, metrics) == 1
    finally:
        admin.dispose()
    assert metrics.registry.get_sample_value("spc_funding_database_waits_total") == 1
    assert len(apply.calls) == 2  # the cut try, then the whole transaction again
    assert effects_in(pg_db) == [str(fact.event_id)] and recorded(pg_db, [fact]) == {str(fact.event_id)}


def test_a_database_away_longer_than_the_hold_gives_the_event_back(pg_db, pg_url, monkeypatch):
    """After HOLD_SECONDS the error propagates: the consumer requeues the message (still unacked
    meanwhile, so nothing is lost)."""
    monkeypatch.setattr(consumer, "HOLD_SECONDS", 1.0)
    metrics, fact = ServiceMetrics("funding"), event()
    refuse_connections(pg_url, True)
    try:
        started = eventlet.hubs.get_hub().clock()
        with pytest.raises(DBAPIError):
            apply_batch(pg_db.uow(), [fact], Effects(), metrics)
        assert eventlet.hubs.get_hub().clock() - started >= 1.0
    finally:
        refuse_connections(pg_url, False)
    assert metrics.registry.get_sample_value("spc_funding_database_waits_total") >= 2
    with pg_db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pg_db.uow().inbox_table)).scalar() == 0
