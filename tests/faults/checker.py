"""A Jepsen-style checker of SPC's own path (issue 27): a history of inbound events published
during a fault, then, once the fault is healed and SPC has settled, what became of each.

- `Workload`: a thread publishing inbound events as an outside system does (publisher confirms,
  persistent, to `spc.inbound`, through the failover URI list; py-amqp, whose confirm wait has a
  timeout, where pika's blocks until the broker answers), each with its own id:
  violations, citizen reports and counter updates, in a seeded mix, at a steady rate. Each
  publish ends `ok` (confirmed), `fail` (refused: the broker nacked or returned it) or `info`
  (unknown: the connection died, or the broker blocked it, before the confirm came), as in
  Jepsen. On a failure it reconnects (the next node of the list) and goes on.
- `Releases`: staff releasing tranches over HTTP during the fault, each answer kept (200,
  409, or unknown: a timeout or a 5xx).
- `observe(db_urls)`: the outcome, read from the databases: the audit journal and the
  findings and reports it keeps by source event, distribution's inbox (counter updates), the
  payment orders and funding's `tranche_released` events, each service's standing.
- `classify(history, observed)`: per event kind, Jepsen's total-queue classes: **ok**
  (confirmed, applied once), **lost** (confirmed, never applied), **duplicated** (an effect
  found more than once), **recovered** (not confirmed, applied anyway: allowed), **unexpected**
  (an effect of an event nobody sent), and **absent** (not confirmed, not applied: allowed).
  Payment orders are counted per tranche, beside what staff were told.
- `Report.assert_clean()`: fails on any lost confirmed event, any duplicate, anything
  unexpected, any tranche paid twice, a release answered 200 without its order (or refused with
  one), or a service violated and confirmed but not suspended, frozen and withdrawn.

The outbound side (every outbox row sent, every consumer applied it, payment orders match
their events) is `tests/faults/ledger.Ledger.check`, which `settle` runs first."""

import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import unquote, urlparse

import amqp
from sqlalchemy import func, select, union_all

from spc.services.audit import orm as audit_orm
from spc.services.distribution import orm as distribution_orm
from spc.services.funding import orm as funding_orm
from spc.services.registry import orm as registry_orm
from spc.shared.sql.persistence import make_engine

VIOLATION, REPORT, COUNTER = "compliance.violation_reported", "usager.report_submitted", "counter.upserted"
KINDS = (VIOLATION, REPORT, COUNTER)
CLASSES = ("sent", "ok", "lost", "duplicated", "recovered", "absent", "unexpected")


@dataclass
class Op:
    event_id: str
    kind: str
    service_id: str
    outcome: str = "info"  # ok | fail | info
    error: str = ""
    at: float = 0.0  # time.time() when the publish began
    took: float = 0.0  # seconds until its outcome


def _envelope(kind, payload):
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": kind,
        "schema_version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "producer": "spc-checker",
        "payload": payload,
    }


class Workload(threading.Thread):
    """Publishes inbound events at `rate` a second until stopped (or `limit` are sent).
    `services`: ids of active services (the violations and reports are about them, the
    violations only about `violable`, so that some services stay untouched); `counters`:
    (counter_id, department, commune) of the counters the updates rename."""

    def __init__(
        self, amqp_uri, services, counters, rate=40, mix=(0.1, 0.7, 0.2), violable=None, seed=27, limit=None, confirm_timeout=5.0
    ):
        super().__init__(daemon=True)
        self.amqp_uri, self.services, self.counters, self.rate = amqp_uri, list(services), list(counters), rate
        self.violable = list(violable if violable is not None else services)
        self.mix, self.rng, self.limit, self.confirm_timeout = mix, random.Random(seed), limit, confirm_timeout
        self.history, self.halt = [], threading.Event()
        self._conn = self._channel = None

    def _event(self):
        draw = self.rng.random()
        if draw < self.mix[0] and self.violable:
            sid = self.rng.choice(self.violable)
            return sid, _envelope(
                VIOLATION,
                {
                    "service_id": sid,
                    "principle": "neutrality",
                    "severity": "major",
                    "summary": "Partisan leaflets at the desk",
                    "reported_by": "spc-checker",
                },
            )
        if draw < self.mix[0] + self.mix[1]:
            sid = self.rng.choice(self.services)
            return sid, _envelope(
                REPORT, {"service_id": sid, "category": "other", "text": f"The desk was closed ({self.rng.random():.6f})"}
            )
        cid, department, commune = self.rng.choice(self.counters)
        return cid, _envelope(
            COUNTER,
            {
                "counter_id": cid,
                "name": f"Espace {self.rng.randrange(10**6)}",
                "commune_insee": commune,
                "department": department,
                "address": "",
            },
        )

    def _channel_open(self):
        """A confirmed channel on the first node of the failover list that takes a connection."""
        if self._channel is None:
            error = None
            for uri in self.amqp_uri.split(";"):
                u = urlparse(uri)
                conn = amqp.Connection(
                    host=f"{u.hostname}:{u.port or 5672}",
                    userid=unquote(u.username or "guest"),
                    password=unquote(u.password or "guest"),
                    virtual_host=unquote(u.path[1:]) or "/",
                    connect_timeout=self.confirm_timeout,
                    confirm_publish=True,
                )
                try:
                    conn.connect()
                    self._conn, self._channel = conn, conn.channel()
                    return self._channel
                except Exception as exc:
                    error = exc
                    try:
                        conn.collect()
                    except Exception:
                        pass
            raise error
        return self._channel

    def publish(self, op, body):
        try:
            channel = self._channel_open()
        except Exception as exc:  # no node takes a connection: never sent
            op.outcome, op.error = "fail", f"connect: {type(exc).__name__}"
            return
        try:
            # confirm_timeout: no confirm in time (a queue without its quorum, a broker alarm)
            channel.basic_publish(
                amqp.Message(
                    json.dumps(body).encode(),
                    content_type="application/json",
                    delivery_mode=2,
                    message_id=op.event_id,
                    type=op.kind,
                ),
                exchange="spc.inbound",
                routing_key=op.kind,
                mandatory=True,
                confirm_timeout=self.confirm_timeout,
            )
            op.outcome = "ok"
        except amqp.exceptions.MessageNacked as exc:
            op.outcome, op.error = "fail", type(exc).__name__
        except Exception as exc:  # sent or not: nobody knows
            op.outcome, op.error = "info", type(exc).__name__
            self.close()

    def run(self):
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self.halt.is_set() and (self.limit is None or len(self.history) < self.limit):
            sid, body = self._event()
            op = Op(body["event_id"], body["event_type"], sid, at=time.time())
            self.history.append(op)
            self.publish(op, body)
            op.took = time.time() - op.at
            if op.outcome != "ok":
                self.halt.wait(0.2)  # a failing broker: do not spin
            next_at = max(next_at + interval, time.monotonic() - 1.0)
            self.halt.wait(max(0.0, next_at - time.monotonic()))
        self.close()

    def stop(self):
        self.halt.set()
        self.join(timeout=60)

    def close(self):
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.collect()  # not close(): its handshake would wait on a broker that may not answer
            except Exception:
                pass


@dataclass
class Release:
    tranche_id: str
    service_id: str
    status: object  # 200, 409, ... or "info" (no answer: a timeout, a dropped connection, a 5xx)


class Releases(threading.Thread):
    """Staff releasing tranches (funding_officer) during the fault, one every `interval` s."""

    def __init__(self, api, tranches, interval=0.2):
        super().__init__(daemon=True)
        self.api, self.todo, self.interval = api, list(tranches), interval  # [(tranche_id, service_id)]
        self.answers, self.halt = [], threading.Event()

    def run(self):
        for tranche_id, sid in self.todo:
            if self.halt.is_set():
                return
            try:
                status = self.api.call("POST", "funding", f"/tranches/{tranche_id}/release", "funding_officer").status_code
            except Exception:
                status = "info"
            self.answers.append(Release(tranche_id, sid, "info" if status in (500, 502, 503, 504) else status))
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(timeout=60)


@dataclass
class Observed:
    effects: dict  # kind -> {store: Counter(event_id)}
    payments: Counter  # tranche_id -> payment orders
    released_events: Counter  # tranche_id -> funding.tranche_released events
    standing: dict  # service_id -> (registry status, funding status, published listings)


def journaled():
    """Every event id journaled: chained, or recorded and waiting to be (a copy recorded while its
    original was being chained, dropped by the next chaining, not counted twice). One statement,
    so one snapshot: read one table after the other, an event chained in between is in neither
    (4 of 1,651 reports were, in a CI run of the partition test)."""
    j, p = audit_orm.journal, audit_orm.journal_pending
    waiting = select(p.c.event_id).where(~select(j.c.event_id).where(j.c.event_id == p.c.event_id).exists())
    return union_all(select(j.c.event_id), waiting)


def observe(db_urls):
    engines = {name: make_engine(url) for name, url in db_urls.items()}
    try:

        def rows(name, query):
            with engines[name].connect() as conn:
                return conn.execute(query).all()

        def counted(name, column, *where):
            return Counter(r[0] for r in rows(name, select(column).where(*where)))

        recorded = Counter(r[0] for r in rows("audit", journaled()))
        inbox = distribution_orm.processed_events
        effects = {
            VIOLATION: {
                "journal": recorded,
                "finding": counted(
                    "audit", audit_orm.findings.c.source_event_id, audit_orm.findings.c.source_event_id.isnot(None)
                ),
            },
            REPORT: {
                "journal": recorded,
                "report": counted("audit", audit_orm.reports.c.source_event_id, audit_orm.reports.c.source_event_id.isnot(None)),
            },
            COUNTER: {"distribution": counted("distribution", inbox.c.event_id, inbox.c.event_type == COUNTER)},
        }
        payments = counted("funding", funding_orm.payment_orders.c.tranche_id)
        released = Counter()
        for (body,) in rows(
            "funding", select(funding_orm.outbox.c.body).where(funding_orm.outbox.c.event_type == "funding.tranche_released")
        ):
            released[json.loads(body)["payload"]["tranche_id"]] += 1
        registry = dict(rows("registry", select(registry_orm.services.c.id, registry_orm.services.c.status)))
        funding = dict(rows("funding", select(funding_orm.accounts.c.service_id, funding_orm.accounts.c.status)))
        listings = distribution_orm.listings
        published = dict(
            rows(
                "distribution",
                select(listings.c.service_id, func.count())
                .where(listings.c.status == "published")
                .group_by(listings.c.service_id),
            )
        )
        standing = {sid: (registry.get(sid), funding.get(sid), published.get(sid, 0)) for sid in registry}
        return Observed(effects, payments, released, standing)
    finally:
        for engine in engines.values():
            engine.dispose()


@dataclass
class Report:
    kinds: dict = field(default_factory=dict)  # kind -> Counter of CLASSES
    problems: list = field(default_factory=list)
    payments: Counter = field(default_factory=Counter)  # payment orders a tranche has -> tranches
    releases: Counter = field(default_factory=Counter)  # what staff were told -> how many

    def table(self):
        lines = [f"{'kind':32}" + "".join(f"{c:>11}" for c in CLASSES)]
        for kind in KINDS:
            counts = self.kinds.get(kind, Counter())
            lines.append(f"{kind:32}" + "".join(f"{counts[c]:>11}" for c in CLASSES))
        lines.append(
            "payment orders per tranche: "
            + ", ".join(f"{n} order(s): {self.payments[n]} tranche(s)" for n in sorted(self.payments))
            or "none"
        )
        if self.releases:
            lines.append(
                "releases asked during the fault, by answer: "
                + ", ".join(f"{k}: {v}" for k, v in sorted(self.releases.items(), key=str))
            )
        return "\n".join(lines)

    def assert_clean(self):
        assert not self.problems, self.table() + "\n" + "\n".join(self.problems[:40])


def classify(history, observed, setup_events=(), releases=(), tranches=(), untouched=()):
    """The report of a run: `history` the workload's ops, `setup_events` the ids of inbound events
    the test sent before it (not unexpected), `releases` the staff's release answers, `tranches`
    every tranche of the run (those never asked have no order), `untouched` the services no
    violation was about (they must still be active everywhere)."""
    report, sent = Report(), {op.event_id for op in history} | set(setup_events)
    for op in history:
        counts = report.kinds.setdefault(op.kind, Counter())
        counts["sent"] += 1
        seen = {store: found[op.event_id] for store, found in observed.effects[op.kind].items()}
        if max(seen.values()) > 1:
            counts["duplicated"] += 1
            report.problems.append(f"duplicated: {op.kind} {op.event_id} applied {seen}")
        if op.outcome == "ok":
            if min(seen.values()) == 0:
                counts["lost"] += 1
                report.problems.append(f"lost: {op.kind} {op.event_id} confirmed, applied {seen}")
            else:
                counts["ok"] += 1
        elif min(seen.values()) > 0:
            counts["recovered"] += 1
        elif max(seen.values()) > 0:
            counts["lost"] += 1  # half applied: in one store, not the other
            report.problems.append(f"half applied: {op.kind} {op.event_id} ({op.outcome}) applied {seen}")
        else:
            counts["absent"] += 1
    for kind in KINDS:
        ids = set().union(*(set(found) for found in observed.effects[kind].values()))
        stores = observed.effects[kind]
        if kind in (VIOLATION, REPORT):  # the journal holds every kind: look at this kind's own store
            ids = set(stores["finding" if kind == VIOLATION else "report"])
        for event_id in ids - sent:
            report.kinds.setdefault(kind, Counter())["unexpected"] += 1
            report.problems.append(f"unexpected: {kind} {event_id}, which nobody sent")
    for event_id, n in observed.effects[VIOLATION]["journal"].items():
        if n > 1 and event_id not in sent:
            report.problems.append(f"duplicated: journal holds {event_id} {n} times")
    violated = {op.service_id for op in history if op.kind == VIOLATION and op.outcome == "ok"}
    for sid in violated:
        registry, funding, published = observed.standing.get(sid, (None, None, None))
        if registry != "suspended" or funding != "suspended" or published:
            report.problems.append(
                f"service {sid} violated (confirmed) but registry {registry}, funding {funding}, {published} listing(s) published"
            )
    for sid in untouched:
        registry, funding, published = observed.standing.get(sid, (None, None, None))
        if registry != "active" or funding != "active" or not published:
            report.problems.append(
                f"service {sid}, never violated, is registry {registry}, funding {funding}, {published} listing(s) published"
            )
    for tranche in set(tranches) | set(observed.payments) | set(observed.released_events):
        orders = observed.payments[tranche]
        report.payments[orders] += 1
        if orders > 1 or observed.released_events[tranche] > 1:
            report.problems.append(
                f"tranche {tranche} paid {orders} time(s), {observed.released_events[tranche]} tranche_released event(s)"
            )
    for answer in releases:
        report.releases[answer.status] += 1
        orders = observed.payments[answer.tranche_id]
        if answer.status == 200 and orders != 1:
            report.problems.append(f"release of {answer.tranche_id} answered 200 but {orders} payment order(s)")
        if answer.status not in (200, "info") and orders:
            report.problems.append(f"release of {answer.tranche_id} refused ({answer.status}) but {orders} payment order(s)")
    return report


def settle(ledger, setup_inbound, history, timeout=180):
    """Wait until SPC has applied what it can: the ledger's outbound check (every outbox row sent,
    every consumer applied it, payment orders match their events), the confirmed inbound events
    counted as sent. Returns what it still found wrong after `timeout` (nothing, when clean)."""
    inbound = list(setup_inbound) + [(op.event_id, op.kind) for op in history if op.outcome == "ok"]
    try:
        ledger.check(inbound, None, timeout=timeout)
    except AssertionError as exc:
        return str(exc).splitlines()
    return []


def run_report(db_urls, workload, setup_events=(), releases=None, tranches=(), untouched=(), ledger=None, timeout=180):
    """Settle (with the ledger, if given), observe, classify and print: the Report.
    `setup_events`: the (event_id, event_type) of the inbound events the test sent before."""
    outbound = settle(ledger, setup_events, workload.history, timeout) if ledger is not None else []
    report = classify(
        workload.history,
        observe(db_urls),
        [e for e, _ in setup_events],
        releases.answers if releases is not None else (),
        tranches,
        untouched,
    )
    report.problems.extend(outbound)
    print("\n" + report.table())
    return report


def violable_split(services):
    """Half the services may be violated; the other half must stay active throughout."""
    return services[: len(services) // 2], services[len(services) // 2 :]


def by_service(tranches_of):
    """{service: [tranche ids]} -> [(tranche id, service)] interleaved across services."""
    queues = [[(t, sid) for t in ts] for sid, ts in tranches_of.items()]
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out
