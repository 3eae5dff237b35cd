"""Transactional outbox and inbox: the tables every service has, and the relay that drains them.

A state change and the events it causes are written in one transaction (`OutboxWriter`); the
relay publishes them afterwards with publisher confirms and only then marks them sent, so an
event is never published before (or without) the commit that makes it true. A crash between
publish and mark republishes it, and every consumer deduplicates on `event_id` (`Inbox`).
"""

import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..core import envelope
from ..observe import failpoints, tracing
from .bulk import among, insert_new, insert_rows
from ..core.clock import to_db, utcnow
from ..core.events.catalogue import INBOUND_EXCHANGE

log = logging.getLogger(__name__)
CLAIM_SECONDS = 10  # a relay that died holding a claim delays those rows this long


def define_messaging_tables(metadata: MetaData):
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("exchange", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("published_at", DateTime, nullable=True, index=True),
        Column("claimed_until", DateTime, nullable=True),
        Column("claimed_by", String(100), nullable=True),
        # the W3C context of the span that wrote it: the relay publishes it in that trace (tracing.py)
        Column("traceparent", String(55), nullable=True),
        Column("tracestate", String(512), nullable=True),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", DateTime, nullable=False, index=True),  # pruned by age
    )
    return outbox, processed


class OutboxWriter:
    """Adds events to the outbox inside the caller's transaction."""

    def __init__(self, session, table, exchange="spc.events"):
        self.session, self.table, self.exchange = session, table, exchange
        self.added = 0

    def add(self, event, exchange=None):
        """`exchange`: where the relay publishes it (default spc.events; the row keeps it)."""
        self.add_many([event], exchange)

    def add_many(self, events, exchange=None):
        """Several events, their rows in this order (the relay publishes by row id), in one
        statement (bulk.insert_rows: a counter moving into a dense département lists a thousand
        services, and a statement each was most of its transaction)."""
        if not events:
            return
        carried = tracing.current_carrier()  # the span writing them, if traces are on
        trace = {"traceparent": carried.get("traceparent"), "tracestate": carried.get("tracestate")}
        insert_rows(
            self.session,
            self.table,
            [
                dict(
                    event_id=str(event.event_id),
                    event_type=event.event_type,
                    exchange=exchange or self.exchange,
                    body=envelope.to_bytes(event).decode("utf-8"),
                    created_at=to_db(event.occurred_at),
                    **trace,
                )
                for event in events
            ],
        )
        self.added += len(events)


class Inbox:
    """Records consumed event ids in the caller's transaction; a second delivery is seen."""

    def __init__(self, session, table):
        self.session, self.table = session, table

    def seen(self, event_id):
        return bool(self.seen_many([event_id]))

    def seen_many(self, event_ids):
        """The ids among `event_ids` already recorded."""
        ids = [str(i) for i in event_ids]
        return {
            r[0]
            for r in self.session.execute(select(self.table.c.event_id).where(among(self.session, self.table.c.event_id, ids)))
        }

    def record(self, event):
        self.record_many([event])

    def record_many(self, events):
        insert_rows(self.session, self.table, self._rows(events))  # one statement, many rows

    def claim_many(self, events):
        """Record the ids of `events` not recorded yet, in one statement (`INSERT … ON CONFLICT
        DO NOTHING RETURNING`); returns the ids it recorded. The others were applied before, or
        are being applied by a transaction that took them first: this statement waits for that
        one, and if it rolls back, records them here instead."""
        return insert_new(self.session, self.table, self._rows(events), "event_id")

    @staticmethod
    def _rows(events):
        now = utcnow()
        return [{"event_id": str(e.event_id), "event_type": e.event_type, "processed_at": now} for e in events]

    def forget(self, event_id):
        """Forget an event (it was dead-lettered after all): a replay of it will be applied."""
        self.session.execute(delete(self.table).where(self.table.c.event_id == str(event_id)))


class OutboxRelay:
    """Claims unsent rows for a while, publishes them in order with confirms, marks them sent."""

    def __init__(self, engine, table, publisher, transaction_lock=None, batch=200, tracer=None):
        self.engine, self.table, self.publisher = engine, table, publisher
        self.tracer = tracer  # traces on: a `send` span for each event (tracing.py)
        self.lock = transaction_lock
        self.batch = batch
        self.me = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"

    def _tx(self):
        return _Locked(self.engine, self.lock)

    def claim(self):
        """Claim the oldest unsent rows not claimed by a live relay, in one statement
        (`UPDATE … WHERE id IN (the oldest) RETURNING`). A relay racing for the same rows waits on
        their locks, then finds them claimed (PostgreSQL re-checks the claim on the new row
        versions) and takes none of them: two relays never publish one row at once, nor out of order."""
        t, now = self.table, utcnow()
        claimable = and_(t.c.published_at.is_(None), or_(t.c.claimed_until.is_(None), t.c.claimed_until < now))
        oldest = select(t.c.id).where(claimable).order_by(t.c.id).limit(self.batch)
        with self._tx() as conn:
            rows = conn.execute(
                update(t)
                .where(and_(t.c.id.in_(oldest.scalar_subquery()), claimable))
                .values(claimed_by=self.me, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
                .returning(t.c.id, t.c.event_id, t.c.event_type, t.c.exchange, t.c.body, t.c.traceparent, t.c.tracestate)
            ).all()
        return sorted(rows, key=lambda row: row.id)  # RETURNING promises no order

    def drain_once(self):
        """Publish one batch, its confirms awaited together; returns how many were published."""
        rows = self.claim()
        if not rows:
            return 0
        spans = [self._send_span(row) for row in rows]
        try:
            self.publisher.publish_many(
                [
                    {
                        "body": row.body.encode("utf-8"),
                        "exchange": row.exchange,
                        "routing_key": row.event_type,
                        "message_id": row.event_id,
                        "type": row.event_type,
                        "headers": self._headers(row, span),
                    }
                    for row, span in zip(rows, spans, strict=True)
                ]
            )
        except Exception as exc:
            for span in spans:
                tracing.end(span, exc)
            raise
        for span in spans:
            tracing.end(span)
        failpoints.fire("relay.after_publish")
        self.mark_published([row.id for row in rows])
        return len(rows)

    def _send_span(self, row):
        """A PRODUCER span, the child of the context that wrote the row (None: traces off)."""
        if self.tracer is None:
            return None
        return tracing.start_span(
            self.tracer,
            f"send {row.exchange}",
            "PRODUCER",
            self._written_in(row),
            tracing.publish_attributes(row.exchange, row.event_type, row.event_id, row.event_type),
        )

    @staticmethod
    def _written_in(row):
        return {name: value for name, value in (("traceparent", row.traceparent), ("tracestate", row.tracestate)) if value}

    def _headers(self, row, span):
        """The message's W3C headers: its send span's context, or (traces off here) the one the
        row kept, passed on as it came."""
        return tracing.carrier_of(span) if span is not None else self._written_in(row)

    def mark_published(self, ids):
        """Mark the rows sent. An inbound event a service relayed (unit_of_work.relay_inbound: a
        visitor's report) keeps no body once sent: it may carry a citizen's words, which only
        audit keeps (the row still says which event went where, and when)."""
        t = self.table
        with self._tx() as conn:
            conn.execute(
                update(t)
                .where(t.c.id.in_(ids))
                .values(
                    published_at=utcnow(), claimed_until=None, body=case((t.c.exchange == INBOUND_EXCHANGE, "{}"), else_=t.c.body)
                )
            )

    def drain(self):
        total = 0
        while True:
            n = self.drain_once()
            total += n
            if n < self.batch:
                return total

    def oldest_unsent_age(self):
        with self._tx() as conn:
            oldest = conn.execute(select(func.min(self.table.c.created_at)).where(self.table.c.published_at.is_(None))).scalar()
        return 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())


class _Locked:
    """A short transaction, serialised in-process when the database needs it (SQLite)."""

    def __init__(self, engine, lock):
        self.engine, self.lock = engine, lock

    def __enter__(self):
        if self.lock is not None:
            self.lock.acquire(True)  # the relay carries suspensions onward: never behind bulk work
        try:
            self.ctx = self.engine.begin()
            return self.ctx.__enter__()
        except Exception:
            if self.lock is not None:
                self.lock.release()
            raise

    def __exit__(self, *exc):
        try:
            return self.ctx.__exit__(*exc)
        finally:
            if self.lock is not None:
                self.lock.release()


__all__ = ["define_messaging_tables", "OutboxWriter", "Inbox", "OutboxRelay", "IntegrityError"]
