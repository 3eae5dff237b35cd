"""The inbox and the outbox relay (shared/sql/outbox.py) on SQLite and PostgreSQL, publishing to the
real RabbitMQ: what a consumer records is seen and nothing else; the relay claims rows for a
while and never takes another relay's live claim, publishes in order with the event's id and type
on the message, marks what the broker confirmed, and republishes what a crash left unmarked."""

import json
from datetime import timedelta

import eventlet
import pytest
from kombu import Connection
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from spc.runtime.fleet import spec
from spc.shared.core import envelope
from spc.shared.observe import failpoints
from spc.shared.messaging import topology
from spc.shared.core.clock import utcnow
from spc.shared.core.envelope import Event
from spc.shared.core.events.catalogue import INBOUND_EXCHANGE
from spc.shared.messaging.broker import Publisher
from spc.shared.sql.outbox import CLAIM_SECONDS, OutboxRelay
from tests.support import EventTap, await_lock_waiters, drain_queue


@pytest.fixture
def db(db_url, open_database):
    return open_database("funding", db_url)


@pytest.fixture
def publisher(amqp_uri):
    with Connection(amqp_uri) as conn:
        topology.declare_all(conn.default_channel)
    publisher = Publisher(amqp_uri)
    yield publisher
    publisher.close()


def events(n, event_type="test.happened"):
    return [Event(event_type, {"n": i}, "test") for i in range(n)]


def write(db, batch, exchange=None):
    with db.uow() as u:
        for event in batch:
            u.outbox.add(event, exchange)
        u.commit()


def rows(db):
    table = db.uow().outbox_table
    with db.engine.connect() as conn:
        return conn.execute(select(table).order_by(table.c.id)).all()


def relay(db, publisher, batch=200):
    return OutboxRelay(db.engine, db.uow().outbox_table, publisher, db.lock, batch=batch)


def sent_by(db):
    """The statements `db`'s engine sends from now on (SQLite's BEGIN IMMEDIATE left out)."""
    statements = []
    sa_event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statement.startswith("BEGIN") or statements.append(statement),
    )
    return statements


def expire_claims(db):
    """As if the relays holding claims died CLAIM_SECONDS ago."""
    table = db.uow().outbox_table
    with db.engine.begin() as conn:
        conn.execute(update(table).values(claimed_until=utcnow() - timedelta(seconds=1)))


# the inbox


def test_the_inbox_sees_what_was_recorded_and_nothing_else(db):
    first, second, third, never = events(4)
    with db.uow() as u:
        assert u.inbox.seen(first.event_id) is False
        u.inbox.record(first)
        u.inbox.record_many([second, third])
        u.inbox.record_many([])  # nothing to record: no statement, no error
        u.commit()
    with db.uow() as u:
        assert u.inbox.seen(first.event_id) is True and u.inbox.seen(never.event_id) is False
        assert u.inbox.seen_many([e.event_id for e in (first, second, never)]) == {str(first.event_id), str(second.event_id)}
        assert u.inbox.seen_many([]) == set()
        u.inbox.forget(second.event_id)  # dead-lettered after all: a replay will be applied
        u.commit()
    with db.uow() as u:
        assert u.inbox.seen_many([e.event_id for e in (first, second, third)]) == {str(first.event_id), str(third.event_id)}
    table = db.uow().inbox_table
    with db.engine.connect() as conn:
        kept = conn.execute(select(table.c.event_type, table.c.processed_at)).all()
    assert [r.event_type for r in kept] == ["test.happened"] * 2
    assert all(abs((r.processed_at - utcnow()).total_seconds()) < 60 for r in kept)


def test_forgetting_an_event_forgets_that_one_only(db):
    kept = [Event("test.happened", {}, "test", event_id=f"00000000-0000-4000-8000-00000000000{i}") for i in range(1, 4)]
    with db.uow() as u:
        u.inbox.record_many(kept)
        u.commit()
    with db.uow() as u:
        u.inbox.forget(kept[1].event_id)  # ids sort around it on both sides
        u.commit()
    with db.uow() as u:
        assert u.inbox.seen_many([e.event_id for e in kept]) == {kept[0].event_id, kept[2].event_id}


def test_what_the_inbox_did_not_commit_is_not_seen(db):
    (event,) = events(1)
    with db.uow() as u:
        u.inbox.record(event)  # left without commit: rolled back
    with db.uow() as u:
        assert not u.inbox.seen(event.event_id)


def test_an_event_id_is_recorded_once_only(db):
    """The unique key apply_once relies on: a second record of one id fails its transaction."""
    (event,) = events(1)
    with db.uow() as u:
        u.inbox.record(event)
        u.commit()
    with pytest.raises(IntegrityError), db.uow() as u:
        u.inbox.record(event)
        u.commit()


def test_claiming_records_the_new_ids_in_one_statement_and_says_which(db):
    """claim_many: the ids it recorded now (not those recorded before, nor a second copy in the
    same call), with their type and time; nothing asked, nothing sent."""
    before, fresh, other = events(3, "test.claimed")
    statements = sent_by(db)
    with db.uow() as u:
        u.inbox.record(before)
        u.commit()
    statements.clear()
    with db.uow() as u:
        copy = Event(fresh.event_type, {}, "test", event_id=fresh.event_id)
        assert u.inbox.claim_many([before, fresh, copy, other]) == {str(fresh.event_id), str(other.event_id)}
        assert u.inbox.claim_many([]) == set()
        u.commit()
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT INTO PROCESSED_EVENTS")
    with db.uow() as u:
        assert u.inbox.claim_many([before, fresh, other]) == set()  # all taken now
        assert u.inbox.seen_many([e.event_id for e in (before, fresh, other)]) == {
            str(e.event_id) for e in (before, fresh, other)
        }
    table = db.uow().inbox_table
    with db.engine.connect() as conn:
        kept = conn.execute(select(table.c.event_id, table.c.event_type, table.c.processed_at)).all()
    assert sorted(r.event_id for r in kept) == sorted(str(e.event_id) for e in (before, fresh, other))
    assert {r.event_type for r in kept} == {"test.claimed"}
    assert all(abs((r.processed_at - utcnow()).total_seconds()) < 60 for r in kept)


def test_what_a_claim_did_not_commit_is_claimed_again(db):
    (event,) = events(1)
    with db.uow() as u:
        assert u.inbox.claim_many([event]) == {str(event.event_id)}  # rolled back
    with db.uow() as u:
        assert u.inbox.claim_many([event]) == {str(event.event_id)}


# the relay


def test_the_relay_publishes_in_order_with_each_events_id_and_type_then_marks_them(db, publisher, amqp_uri):
    tap = EventTap(amqp_uri)
    written = events(3, "test.first") + events(4, "test.second")
    write(db, written[:3])
    write(db, written[3:])
    assert relay(db, publisher).oldest_unsent_age() > 0
    assert relay(db, publisher, batch=5).drain() == 7  # a full batch, then a short one: done
    got = drain_queue(amqp_uri, tap.queue, wait=5, expect=7)
    assert [props.message_id for props, _ in got] == [str(e.event_id) for e in written]
    assert [props.type for props, _ in got] == [e.event_type for e in written]
    assert [props.delivery_mode for props, _ in got] == [2] * 7  # persistent
    assert [json.loads(body) for _, body in got] == [envelope.to_dict(e) for e in written]
    sent = rows(db)
    assert all(r.published_at is not None and r.claimed_until is None for r in sent)
    assert [json.loads(r.body) for r in sent] == [envelope.to_dict(e) for e in written]  # kept
    assert relay(db, publisher).drain() == 0 and relay(db, publisher).oldest_unsent_age() == 0.0


def test_a_batch_is_claimed_in_one_statement_and_marked_in_another(db, publisher):
    write(db, events(3))
    statements = sent_by(db)
    assert relay(db, publisher).drain_once() == 3
    assert [s.split()[0:2] for s in statements] == [["UPDATE", "outbox"], ["UPDATE", "outbox"]], statements
    assert "RETURNING" in statements[0]
    statements.clear()
    assert relay(db, publisher).drain_once() == 0  # nothing to send: the claim alone
    assert len(statements) == 1


def test_a_drain_takes_batch_after_batch_until_one_is_short(db, publisher, amqp_uri):
    write(db, events(5))
    sender = relay(db, publisher, batch=5)
    assert sender.drain() == 5  # exactly one full batch: one more round finds nothing
    write(db, events(7))
    assert sender.drain_once() == 5 and sender.drain_once() == 2 and sender.drain_once() == 0


def test_the_drain_routes_each_event_by_its_type_to_the_exchange_its_row_names(db, publisher, amqp_uri):
    """An inbound event a service relays goes to spc.inbound (where its consumers take it) and
    its row keeps no body once sent; SPC's own events keep theirs."""
    tap = EventTap(amqp_uri)
    report = Event("usager.report_submitted", {"words": "a citizen's words"}, "test")
    own = Event("test.happened", {"n": 1}, "test")
    write(db, [report], INBOUND_EXCHANGE)
    write(db, [own])
    with Connection(amqp_uri) as conn:
        channel = conn.default_channel
        channel.queue_declare("test.inbound.tap", durable=True, auto_delete=False)
        channel.queue_bind("test.inbound.tap", INBOUND_EXCHANGE, "usager.report_submitted")
    assert relay(db, publisher).drain() == 2
    ((props, body),) = drain_queue(amqp_uri, "test.inbound.tap", wait=5, expect=1)
    assert props.message_id == str(report.event_id) and b"a citizen's words" in body
    assert [e["event_id"] for e in tap.collect(wait=1)] == [str(own.event_id)]
    by_event = {r.event_id: r for r in rows(db)}
    assert by_event[str(report.event_id)].body == "{}"
    assert json.loads(by_event[str(own.event_id)].body) == envelope.to_dict(own)


def test_a_relay_never_takes_rows_another_relay_holds_until_its_claim_expires(db, publisher):
    write(db, events(3))
    first, second = relay(db, publisher, batch=2), relay(db, publisher, batch=2)
    assert first.me != second.me
    before = utcnow()
    taken = first.claim()
    assert [r.id for r in taken] == [r.id for r in rows(db)][:2]  # the oldest first
    assert [r.id for r in second.claim()] == [rows(db)[2].id]  # only what the first left
    assert first.claim() == [] and second.claim() == []  # live claims, its own ones too
    held = rows(db)
    assert [r.claimed_by for r in held] == [first.me, first.me, second.me]
    for r in held:  # held for CLAIM_SECONDS from the claim
        assert before + timedelta(seconds=CLAIM_SECONDS - 1) < r.claimed_until
        assert r.claimed_until <= utcnow() + timedelta(seconds=CLAIM_SECONDS)

    expire_claims(db)  # both died: their rows are anyone's again, the oldest first
    retaken = second.claim()
    assert [r.id for r in retaken] == [r.id for r in taken]
    assert [r.claimed_by for r in rows(db)] == [second.me, second.me, second.me]
    assert [r.event_id for r in retaken] == [r.event_id for r in rows(db)][:2]


def test_a_sent_row_is_never_claimed_again(db, publisher):
    write(db, events(2))
    sender = relay(db, publisher)
    assert sender.drain() == 2
    expire_claims(db)
    assert sender.claim() == [] and sender.drain() == 0


def test_a_crash_between_the_confirms_and_the_mark_republishes_the_same_messages(db, publisher, amqp_uri):
    """Nothing is lost: the rows stay unmarked and, once the dead relay's claim runs out, another
    relay publishes them again under the same message ids (consumers deduplicate on them)."""
    tap = EventTap(amqp_uri)
    written = events(3)
    write(db, written)
    failpoints.configure("relay.after_publish=raise@1")
    try:
        with pytest.raises(RuntimeError, match="relay.after_publish"):
            relay(db, publisher).drain()
    finally:
        failpoints.configure("")
    assert all(r.published_at is None for r in rows(db))
    assert relay(db, publisher).drain() == 0  # the dead relay's claim still holds them
    expire_claims(db)
    assert relay(db, publisher).drain() == 3
    ids = [props.message_id for props, _ in drain_queue(amqp_uri, tap.queue, wait=5, expect=6)]
    assert ids == [str(e.event_id) for e in written] * 2


@pytest.mark.parametrize("order", ["first sorts first", "second sorts first"])
def test_a_relay_that_read_rows_another_is_claiming_gets_none_of_them(pg_url, publisher, order):
    """On PostgreSQL two relays may read the same unclaimed rows at once. The second one's claim
    waits on the first's row locks, then finds them claimed and takes none: each row is published
    by one relay. (Their names are set so that either sorts first.)"""
    from sqlalchemy import event as sa_event

    from spc.shared.sql.persistence import make_engine

    db = spec("funding").open(pg_url)
    other_engine = make_engine(pg_url)
    try:
        write(db, events(3))
        table = db.uow().outbox_table
        first = OutboxRelay(other_engine, table, publisher)
        second = relay(db, publisher)
        first.me, second.me = ("relay-a", "relay-b") if order == "first sorts first" else ("relay-b", "relay-a")
        committing, go = eventlet.Event(), eventlet.Event()

        def hold(conn):  # the first relay's claim, written and about to commit
            committing.send()
            go.wait()

        sa_event.listen(other_engine, "commit", hold, once=True)
        one = eventlet.spawn(first.claim)
        committing.wait()
        other = eventlet.spawn(second.claim)
        await_lock_waiters(db.engine, 1, "the second relay's claim to wait on the first's rows")
        go.send()
        assert [r.id for r in one.wait()] == [r.id for r in rows(db)]
        assert other.wait() == []
        assert {r.claimed_by for r in rows(db)} == {first.me}
    finally:
        other_engine.dispose()
        db.close()
