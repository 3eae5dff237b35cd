"""The ledger every fault test ends with: after a full drain, compare the event ids in each
service's outbox, on the broker (a tap queue), in each consumer's processed-events table and in
the payments. Lost = 0 and duplicate effects = 0, or the test fails with the ids."""

import json
from collections import Counter

from sqlalchemy import select

from spc.services.audit import orm as audit_orm
from spc.services.distribution import orm as distribution_orm
from spc.services.funding import orm as funding_orm
from spc.services.registry import orm as registry_orm
from spc.shared.messaging import topology
from spc.shared.sql.persistence import make_engine

ORMS = {"registry": registry_orm, "funding": funding_orm, "distribution": distribution_orm, "audit": audit_orm}
# who consumes what: read from the topology the services declare, not restated here. Each
# queue's consumer records what it applied in the service's inbox, except audit's journal lane,
# whose record is the journal itself.
CONSUMERS = {
    "registry": [topology.REGISTRY_EVENTS],
    "funding": [topology.FUNDING_EVENTS],
    "distribution": [topology.DISTRIBUTION_EVENTS, topology.DISTRIBUTION_INBOUND],
    "audit": [topology.AUDIT_COMPLIANCE, topology.AUDIT_STANDINGS, topology.AUDIT_REPORTS, topology.AUDIT_JOURNAL],
}
JOURNALED = topology.AUDIT_JOURNAL


def _binds(queue, exchange, event_type):
    for b in queue.bindings:
        if b.exchange.name != exchange:
            continue
        key = b.routing_key
        if key == "#" or key == event_type:
            return True
    return False


class Ledger:
    def __init__(self, db_urls):
        self.engines = {name: make_engine(url) for name, url in db_urls.items()}

    def close(self):
        for engine in self.engines.values():
            engine.dispose()

    def _rows(self, name, query):
        with self.engines[name].connect() as conn:
            return conn.execute(query).all()

    def outbox(self, name):
        t = ORMS[name].outbox
        return self._rows(name, select(t.c.id, t.c.event_id, t.c.event_type, t.c.body, t.c.published_at).order_by(t.c.id))

    def processed(self, name):
        t = ORMS[name].processed_events
        return {r.event_id: r.event_type for r in self._rows(name, select(t.c.event_id, t.c.event_type))}

    def journal_ids(self):
        t = audit_orm.journal
        return [r.event_id for r in self._rows("audit", select(t.c.event_id).order_by(t.c.seq))]

    def payment_orders(self):
        t = funding_orm.payment_orders
        return {r.tranche_id: r.event_id for r in self._rows("funding", select(t.c.tranche_id, t.c.event_id))}

    def check(self, inbound=(), tap=None, timeout=60):
        """After a full drain: `inbound` are the (event_id, event_type) of the valid events
        published to spc.inbound; `tap` an EventTap bound before the services started. Waits
        (up to `timeout`) for relays and consumers to finish, then asserts. Returns a summary."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            wire = None if tap is None else [e["event_id"] for e in tap.drain()]
            problems, summary = self._compare(inbound, wire)
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert not problems, "ledger:\n" + "\n".join(problems[:50])
        return summary

    def _running(self):
        """The services whose database was ever migrated (a test may start only some)."""
        from sqlalchemy import inspect

        return [name for name, engine in self.engines.items() if inspect(engine).has_table("outbox")]

    def _compare(self, inbound, wire):
        problems = []
        emitted = {}
        running = self._running()
        for name in running:
            for row in self.outbox(name):
                if row.published_at is None:
                    problems.append(f"{name}: outbox event {row.event_type} {row.event_id} never published")
                emitted[row.event_id] = (name, row.event_type, json.loads(row.body))
        processed = {name: self.processed(name) for name in running}
        journaled = set(self.journal_ids()) if "audit" in running else set()
        expected = [(eid, "spc.events", etype) for eid, (_, etype, _) in emitted.items()]
        expected += [(str(eid), "spc.inbound", etype) for eid, etype in inbound]
        lost = 0
        for event_id, exchange, event_type in expected:
            for name, queues in CONSUMERS.items():
                if name not in processed:
                    continue
                for queue in queues:
                    applied = journaled if queue is JOURNALED else processed[name]
                    if _binds(queue, exchange, event_type) and event_id not in applied:
                        lost += 1
                        problems.append(f"{name} ({queue.name}) never applied {event_type} {event_id}")
        journal = Counter(self.journal_ids()) if "audit" in running else Counter()
        for event_id, n in journal.items():
            if n > 1:
                problems.append(f"audit journal holds {event_id} {n} times")
        if wire is not None:
            on_wire = set(wire)
            for event_id in emitted:
                if event_id not in on_wire:
                    problems.append(f"{event_id} is in an outbox, never seen on spc.events")
            for event_id in on_wire - set(emitted):
                problems.append(f"{event_id} seen on spc.events, in no outbox")
        payments = Counter()
        if "funding" in running:
            orders = self.payment_orders()
            for event_id, (_, etype, body) in emitted.items():
                if etype == "funding.tranche_released":
                    tranche = body["payload"]["tranche_id"]
                    payments[tranche] += 1
                    if orders.get(tranche) != event_id:
                        problems.append(f"payment order of {tranche} is not event {event_id}")
            for tranche, n in payments.items():
                if n > 1:
                    problems.append(f"tranche {tranche} has {n} payment orders")
            if set(orders) != set(payments):
                problems.append(f"payment orders {sorted(set(orders) ^ set(payments))} differ from events")
        return problems, {
            "events": len(emitted),
            "inbound": len(inbound),
            "lost": lost,
            "duplicate_payments": sum(n - 1 for n in payments.values()),
            "payments": len(payments),
            "journal": sum(journal.values()),
        }

    def events_of(self, name, event_type):
        return [json.loads(r.body) for r in self.outbox(name) if r.event_type == event_type]
