"""The figures of issue 7, each measured beside its baseline in the same run (bench/README.md).

- `intake`: citizen reports applied by audit per second (stored, journaled, chained), from a
  backlog published while audit was stopped.
- `journal`: events from `spc.events` journaled and hash-chained by audit per second, likewise.
- `latency`: violation published → suspended in registry, frozen in funding and withdrawn in
  distribution (read in their databases), while other events flow at a steady rate.
"""

import contextlib
from datetime import datetime, timezone
import json
import random
import threading
import time
import uuid

from sqlalchemy import func, select

from spc.services.audit import orm as audit_orm
from spc.services.distribution import orm as distribution_orm
from spc.services.funding import orm as funding_orm
from spc.runtime.fleet import spec
from spc.services.registry import orm as registry_orm
from tests.support import Fleet

from .baseline import publish_confirmed, raw_rate
from .harness import stack, wait_until
from .national import national
from .probe import Probe, baseline_cost, cpu_seconds

__all__ = ["intake", "journal", "latency", "idle", "apart", "priority", "relay", "national"]


def _envelope(event_type, payload, producer="bench"):
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": datetime.now(timezone.utc).isoformat(),
            "producer": producer,
            "payload": payload,
        }
    ).encode()


def _report(sid, i):
    return _envelope(
        "usager.report_submitted", {"service_id": sid, "category": "other", "text": f"Report {i}: the desk was closed " * 4}
    )


def _service(fleet):
    from tests.faults import story

    return story.active_service(fleet.api)


def _rate_while_applied(count, n, timeout, launched):
    """Applied per second, from the first seen applied to the last (start-up excluded); if the
    first look already sees them all (a small run), from the process's launch."""
    seen = []
    first_at = wait_until(lambda: seen.append(count()) or seen[-1] > 0, timeout)
    if seen[-1] >= n:
        return n / max(first_at - launched, 1e-6)
    end = wait_until(lambda: count() >= n, timeout, interval=0.02)
    return (n - seen[-1]) / max(end - first_at, 1e-6)


def _startup_cpu(fleet, name):
    """What starting `name` costs in CPU seconds (a restart with nothing queued, until ready):
    taken off the figure's CPU, which counts from the process's start."""
    fleet.stop(name)
    fleet.start(name)
    startup = cpu_seconds(fleet.procs[name].pid)
    fleet.stop(name)
    return startup


def _from_backlog(amqp_uri, fleet, exchange, routing_key, bodies, count, probe):
    """Publish `bodies` while audit is stopped, measure the baseline, start audit and time it
    applying them: (rate, baseline, the baseline's cost, audit at its start as a probe snapshot)."""
    startup = _startup_cpu(fleet, "audit")
    publish_confirmed(amqp_uri, exchange, routing_key, bodies)
    baseline, baseline_cpu = baseline_cost(probe.broker, lambda: raw_rate(amqp_uri, len(bodies), len(bodies[0])), len(bodies))
    before = probe.restarted("audit", startup)
    fleet.start("audit", wait=False)
    rate = _rate_while_applied(count, len(bodies), 600, time.monotonic())
    return rate, baseline, baseline_cpu, before


def intake(n):
    with stack() as (amqp_uri, fleet, db):
        fleet.start()
        sid = _service(fleet)
        wait_until(lambda: fleet.api.call("GET", "audit", f"/services/{sid}/findings").status_code == 200, 30)
        probe = Probe(fleet, ["audit"])
        rate, baseline, baseline_cpu, before = _from_backlog(
            amqp_uri,
            fleet,
            "spc.inbound",
            "usager.report_submitted",
            [_report(sid, i) for i in range(n)],
            lambda: db.count("audit", audit_orm.reports),
            probe,
        )
        wait_until(lambda: (db.scalar("audit", select(audit_orm.journal_head.c.seq)) or 0) >= n, 600, 0.05)
        return {"rate": rate, "baseline": baseline, "baseline_cpu_ms_per_1000": baseline_cpu, **probe.report(before, n)}


def journal(n, env=None):
    with stack(env=env) as (amqp_uri, fleet, db):
        bodies = [
            _envelope(
                "distribution.listing_published", {"service_id": str(uuid.uuid4()), "counter_ids": [f"fs-{i}"]}, "distribution"
            )
            for i in range(n)
        ]
        fleet.start("audit")
        probe = Probe(fleet, ["audit"])
        head = select(audit_orm.journal_head.c.seq)
        rate, baseline, baseline_cpu, before = _from_backlog(
            amqp_uri, fleet, "spc.events", "distribution.listing_published", bodies, lambda: db.scalar("audit", head) or 0, probe
        )
        wait_until(lambda: (db.scalar("audit", head) or 0) >= n, 600, 0.05)
        return {"rate": rate, "baseline": baseline, "baseline_cpu_ms_per_1000": baseline_cpu, **probe.report(before, n)}


class Background(threading.Thread):
    """Other events at a steady rate: citizen reports about the services, and counter updates
    in their department (each re-examines the listings there)."""

    def __init__(self, amqp_uri, sids, per_second):
        super().__init__(daemon=True)
        self.amqp_uri, self.sids, self.per_second = amqp_uri, sids, per_second
        self.halt, self.sent = threading.Event(), 0

    def run(self):
        tick = 0.1
        per_tick = max(1, int(self.per_second * tick))
        while not self.halt.is_set():
            started = time.monotonic()
            keys, bodies = [], []
            for i in range(per_tick):
                if i % 5 == 4:  # a fifth are counter updates
                    keys.append("counter.upserted")
                    bodies.append(
                        _envelope(
                            "counter.upserted",
                            {
                                "counter_id": f"bg-{random.randrange(50)}",
                                "name": f"Espace {random.random()}",
                                "commune_insee": "35238",
                                "department": "35",
                                "address": "",
                            },
                        )
                    )
                else:
                    keys.append("usager.report_submitted")
                    bodies.append(_report(random.choice(self.sids), self.sent + i))
            publish_confirmed(self.amqp_uri, "spc.inbound", keys, bodies)
            self.sent += per_tick
            time.sleep(max(0.0, tick - (time.monotonic() - started)))

    def stop(self):
        self.halt.set()
        self.join()


def _suspended_everywhere(db, sid):
    """A check, true once the service is suspended in registry, frozen in funding and withdrawn
    in distribution. It asks each database only until that one is done, so the poller (every
    2 ms, on the same two cores) takes as little as it can from the path it measures."""
    r, f, d = registry_orm.services, funding_orm.accounts, distribution_orm.listings
    pending = [
        ("registry", select(r.c.status).where(r.c.id == sid), lambda v: v == "suspended"),
        ("funding", select(f.c.status).where(f.c.service_id == sid), lambda v: v == "suspended"),
        (
            "distribution",
            select(func.count()).select_from(d).where(d.c.service_id == sid, d.c.status == "published"),
            lambda v: not v,
        ),
    ]

    def check():
        while pending:
            service, query, done = pending[0]
            if not done(db.scalar(service, query)):
                return False
            pending.pop(0)
        return True

    return check


SERVICES = ("registry", "funding", "distribution", "audit")


def idle(violations):
    """`latency` with nothing else flowing: each hop's own cost, statements and CPU per event."""
    return latency(violations, 0)


def apart(violations, per_second):
    """`latency` with each service's urgent lanes in a process of their own (`spc run --lanes
    urgent` beside `--lanes bulk`): the operating system, not one hub, shares the cores."""
    return latency(violations, per_second, apart=True)


def priority(violations, per_second):
    """`apart`, the bulk processes at a lower CPU priority (`spc run --nice 10`, docs/deploy.md):
    the kernel gives the urgent processes the cores first whenever both want them."""
    return latency(violations, per_second, apart=True, bulk_nice=10)


def latency(violations, per_second, apart=False, urls=None, env=None, bulk_nice=0):
    from tests.faults import story

    with stack(urls, env) as (amqp_uri, fleet, db), contextlib.ExitStack() as extra:
        probe = Probe(fleet, SERVICES)
        if apart:
            (fleet.log_dir / "urgent").mkdir()
            urgent = Fleet(amqp_uri, fleet.db_urls, fleet.log_dir / "urgent")
            extra.callback(urgent.close)
            urgent.start(SPC_LANES="urgent")
            fleet.start(SPC_LANES="bulk", SPC_NICE=str(bulk_nice))
            probe.add(urgent, SERVICES, " (urgent)")
        else:
            fleet.start()
        story.counters(amqp_uri)
        sids = [_service(fleet) for _ in range(violations)]
        for sid in sids:
            wait_until(
                lambda sid=sid: (
                    db.scalar(
                        "distribution",
                        select(func.count())
                        .select_from(distribution_orm.listings)
                        .where(distribution_orm.listings.c.service_id == sid),
                    )
                    == 2
                ),
                60,
            )
        background = Background(amqp_uri, sids, per_second)
        if per_second:
            background.start()
            time.sleep(3)  # let the flow settle
        latencies, before, sent_before = [], probe.snapshot(), background.sent
        try:
            for sid in sids:
                body = _envelope(
                    "compliance.violation_reported",
                    {
                        "service_id": sid,
                        "principle": "neutrality",
                        "severity": "major",
                        "summary": "Partisan leaflets at the desk",
                        "reported_by": "bench",
                    },
                )
                started = time.monotonic()
                publish_confirmed(amqp_uri, "spc.inbound", "compliance.violation_reported", [body])
                latencies.append(wait_until(_suspended_everywhere(db, sid), 60, 0.002) - started)
                time.sleep(0.2)
        finally:
            if per_second:
                background.stop()
        events = background.sent - sent_before + len(sids)
        cost = probe.report(before, events)
        baseline, baseline_cpu = baseline_cost(probe.broker, lambda: raw_rate(amqp_uri, 5000, 500), 5000)
        return {
            "latencies": latencies,
            "baseline": baseline,
            "baseline_cpu_ms_per_1000": baseline_cpu,
            "background_sent": background.sent,
            "events": events,
            **cost,
        }


def traces(n, violations):
    """What traces cost: `journal` (n events) and `idle` (violations), each with traces off, then
    on, every span exported over OTLP/HTTP to a receiver in this process (tests/otlp_receiver.py,
    which decodes and keeps them, as a collector would take them), in the same run."""
    from tests.otlp_receiver import Receiver

    receiver = Receiver().start()
    try:
        out = {}
        for mode, env in (
            ("off", {}),
            ("on", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "500"}),
        ):
            received = len(receiver.spans)
            journaled, violated = journal(n, env), latency(violations, 0, env=env)
            out[mode] = {
                "journal_rate": journaled["rate"],
                "journal_baseline": journaled["baseline"],
                "journal_audit_cpu_ms_per_1000": journaled["cpu_ms_per_1000"]["audit"],
                "idle_latencies": violated["latencies"],
                "idle_cpu_ms_per_1000": {s: violated["cpu_ms_per_1000"][s] for s in SERVICES},
                "spans": len(receiver.spans) - received,
            }
        return out
    finally:
        receiver.stop()


def relay(n):
    """The outbox relay's publishing step, before and after batching confirms: n messages
    published one confirm at a time (`publish_raw`, as the relay did) and all confirms awaited
    together (`publish_many`, as it does), on the same broker, same size."""
    from spc.shared.messaging.broker import Publisher
    from .harness import vhost

    body = _envelope("distribution.listing_published", {"service_id": str(uuid.uuid4()), "counter_ids": ["x"]})
    with vhost() as amqp_uri:
        publisher = Publisher(amqp_uri)
        try:
            started = time.monotonic()
            for _ in range(n):
                publisher.publish_raw(body, "spc.events", "bench.noise", message_id=str(uuid.uuid4()))
            one_by_one = n / (time.monotonic() - started)
            started = time.monotonic()
            for chunk in range(0, n, 200):  # the relay's batch
                publisher.publish_many(
                    [
                        {"body": body, "exchange": "spc.events", "routing_key": "bench.noise", "message_id": str(uuid.uuid4())}
                        for _ in range(min(200, n - chunk))
                    ]
                )
            batched = n / (time.monotonic() - started)
        finally:
            publisher.close()
        baseline = raw_rate(amqp_uri, n, len(body))
    return {"rate": batched, "before": one_by_one, "baseline": baseline}


def replication(violations, commits):
    """What synchronous replication costs (issue 27): each service's database on a primary with
    a streaming standby on this machine (tests/faults/postgres_pair.py, each server flushing to disk), asynchronous (a failover
    loses what the standby had not received) then synchronous (a commit waits for the standby's
    flush: nothing acknowledged is lost). For each: a commit's latency (one row, `commits` in
    turn) and `idle`'s path, a violation until suspended in registry, funding and distribution
    (each hop commits at least once). The baseline is asynchronous, measured in the same run."""
    from tests.faults.postgres_pair import PostgresPair

    out = {}
    for mode, synchronous in (("asynchronous", False), ("synchronous", True)):
        pair = PostgresPair(f"/tmp/spc-bench-pair-{uuid.uuid4().hex[:8]}", synchronous=synchronous, fsync=True).start()
        try:
            for name in SERVICES:
                pair.create_database(f"spc_{name}")
            out[f"{mode}_commit_ms"] = _commit_latencies(pair.single_url("primary", "spc_audit"), commits)
            urls = {name: pair.url(f"spc_{name}") for name in SERVICES}
            out[f"{mode}_latencies"] = latency(violations, 0, urls=urls)["latencies"]
        finally:
            pair.stop()
    return out


def _commit_latencies(url, commits):
    import psycopg
    from spc.shared.sql.persistence import postgresql_url

    dsn = postgresql_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_commits (i integer)")
        took = []
        for i in range(commits):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_commits VALUES (%s)", (i,))
            took.append(1000 * (time.perf_counter() - started))
    return took


def retention(seconds, per_second, horizon, prune_every, sample_every=10):
    """Nothing grows without bound (issue 27): reports and counter updates at `per_second` for
    `seconds`, the services keeping their inbox and sent outbox rows `horizon` seconds
    (SPC_INBOX_RETENTION_DAYS, SPC_OUTBOX_RETENTION_DAYS) and pruning every `prune_every` s
    (SPC_PRUNE_SECONDS); each table's rows counted every `sample_every` s. The inbox and the
    outbox level off near `per_second` × (`horizon` + `prune_every`) events, while audit's
    journal, which is never pruned, keeps growing."""
    days = str(horizon / 86400)
    env = {
        "SPC_INBOX_RETENTION_DAYS": days,
        "SPC_OUTBOX_RETENTION_DAYS": days,
        "SPC_UNKNOWN_SERVICE_WINDOW": str(horizon / 2),
        "SPC_PRUNE_SECONDS": str(prune_every),
    }
    from tests.faults import story

    with stack() as (amqp_uri, fleet, db):
        fleet.start(**env)
        story.counters(amqp_uri)
        sids = [_service(fleet) for _ in range(5)]
        background = Background(amqp_uri, sids, per_second)
        background.start()
        samples, started = [], time.monotonic()
        try:
            while time.monotonic() - started < seconds:
                time.sleep(sample_every)
                sample = {
                    "at_s": round(time.monotonic() - started, 1),
                    "sent": background.sent,
                    "journal": db.count("audit", audit_orm.journal),
                }
                for name in SERVICES:
                    orm = spec(name).unit_of_work.orm
                    sample[f"{name}_inbox"] = db.count(name, orm.processed_events)
                    sample[f"{name}_outbox"] = db.count(name, orm.outbox)
                samples.append(sample)
        finally:
            background.stop()
        return {"samples": samples, "per_second": per_second, "horizon_s": horizon, "prune_every_s": prune_every}
