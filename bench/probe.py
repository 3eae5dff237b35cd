"""What a figure costs, beside how fast it goes: each service's CPU time (from /proc) and the SQL
statements it sent (its `spc_<service>_database_statements_total`), between two snapshots, per
1,000 events and per event. CPU time is steadier than a rate on a shared, noisy machine: a
process that waits for a busy core is slower but uses no more CPU.

Also the broker's CPU (the machine's RabbitMQ, as `rabbitmqctl` names its process) and
PostgreSQL's (every `postgres` process alive at the second snapshot, from the first or from its
start: the services' pooled connections live through a figure)."""

import os
import subprocess

from prometheus_client.parser import text_string_to_metric_families

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds of a process (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


def _pids_named(name):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def broker_pid():
    """The machine's RabbitMQ (its Erlang VM), or None when it is elsewhere or cannot be asked."""
    try:
        out = subprocess.run(["rabbitmqctl", "-q", "eval", "os:getpid()."], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip().strip('"')) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def service_counts(metrics_text):
    """From a service's /metrics: {"statements": {(origin, kind): n}, "consumed": n, "published": n,
    "delivery": {event type: {"sum": seconds, "count": n}}} (delivery: from the event's occurred_at
    to its effect committed here)."""
    counts = {"statements": {}, "consumed": 0.0, "published": 0.0, "delivery": {}}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name.endswith(("_event_delivery_seconds_sum", "_event_delivery_seconds_count")):
                kind = "sum" if sample.name.endswith("_sum") else "count"
                counts["delivery"].setdefault(sample.labels["event_type"], {"sum": 0.0, "count": 0.0})[kind] = sample.value
            elif sample.name.endswith("_database_statements_total"):
                counts["statements"][(sample.labels["origin"], sample.labels["statement"])] = sample.value
            elif sample.name.endswith("_events_consumed_total"):
                counts["consumed"] += sample.value
            elif sample.name.endswith("_outbox_published_total"):
                counts["published"] += sample.value
    return counts


def _per(counts, was, origin, events):
    """Statements of `origin` per event since `was`: (statements, commits, {kind: per event})."""
    kinds = {
        kind: (n - was["statements"].get((o, kind), 0.0)) / events for (o, kind), n in counts["statements"].items() if o == origin
    }
    kinds = {k: round(v, 3) for k, v in sorted(kinds.items()) if v > 0}
    return round(sum(v for k, v in kinds.items() if k != "commit"), 2), kinds.get("commit", 0.0), kinds


class Probe:
    """`probe = Probe(fleet, services)`, then `before = probe.snapshot()`, the work, and
    `probe.report(before, events)`: CPU ms per 1,000 events of each service, of the broker and of
    PostgreSQL, and each service's statements per event it consumed, by kind."""

    def __init__(self, fleet, services, broker=None):
        self.processes = {name: (fleet, name) for name in services}  # label: (fleet, service)
        self.services = list(services)
        self.broker = broker if broker is not None else broker_pid()

    def snapshot(self):
        shot = {"cpu": {}, "counts": {}}
        for label in self.services:
            fleet, name = self.processes[label]
            shot["cpu"][label] = cpu_seconds(fleet.procs[name].pid)
            shot["counts"][label] = service_counts(fleet.api.call("GET", name, "/metrics", None).text)
        if self.broker:
            shot["cpu"]["rabbitmq"] = cpu_seconds(self.broker)
        shot["postgres"] = {pid: cpu_seconds(pid) for pid in _pids_named("postgres")}
        return shot

    def add(self, fleet, services, suffix):
        """Watch `services` of another fleet too, labelled `<service><suffix>`."""
        for name in services:
            self.processes[name + suffix] = (fleet, name)
            self.services.append(name + suffix)

    def restarted(self, name, startup_cpu):
        """A snapshot as `name` stood at its start: CPU `startup_cpu` (what a start costs it,
        measured on a restart with nothing queued), nothing counted; the others as they stand."""
        shot = self.snapshot_without(name)
        shot["cpu"][name], shot["counts"][name] = (
            startup_cpu,
            {"statements": {}, "consumed": 0.0, "published": 0.0, "delivery": {}},
        )
        return shot

    def snapshot_without(self, name):
        services, self.services = self.services, [s for s in self.services if s != name]
        try:
            return self.snapshot()
        finally:
            self.services = services

    def report(self, before, events):
        """What happened since `before`, for `events` events of the figure."""
        after = self.snapshot()
        per_1000 = 1000.0 / max(events, 1)
        cpu = {
            name: 1000 * (after["cpu"][name] - was) * per_1000  # ms per 1,000 events
            for name, was in before["cpu"].items()
            if was is not None and after["cpu"].get(name) is not None
        }
        # a backend that started meanwhile (a restarted service's connections) counts from zero;
        # one that ended meanwhile is lost (the services' pooled connections live on)
        postgres = sum(now - (before["postgres"].get(pid) or 0.0) for pid, now in after["postgres"].items() if now is not None)
        cpu["postgresql"] = 1000 * postgres * per_1000
        statements = {}
        for name in self.services:
            now, was = after["counts"][name], before["counts"][name]
            consumed, published = now["consumed"] - was["consumed"], now["published"] - was["published"]
            if consumed <= 0:
                continue
            per_event, commits, kinds = _per(now, was, "consumer", consumed)
            statements[name] = {"events": consumed, "per_event": per_event, "commits_per_event": commits, "by_kind": kinds}
            if published > 0:
                relay, relay_commits, relay_kinds = _per(now, was, "relay", published)
                statements[name].update(
                    relayed=published, relay_per_event=relay, relay_commits_per_event=relay_commits, relay_by_kind=relay_kinds
                )
        return {
            "cpu_ms_per_1000": {k: round(v, 1) for k, v in cpu.items()},
            "statements": statements,
            "hops_ms": self._hops(before, after),
        }

    def _hops(self, before, after):
        """Each hop's mean time, by service and event type: from the moment the event was written
        (its occurred_at: in the service that emitted it, or when the bench published it, on the
        same clock) to its effect committed here."""
        hops = {}
        for label in self.services:
            was = before["counts"][label]["delivery"]
            for event_type, now in after["counts"][label]["delivery"].items():
                n = now["count"] - was.get(event_type, {}).get("count", 0.0)
                if n > 0:
                    seconds = now["sum"] - was.get(event_type, {}).get("sum", 0.0)
                    hops[f"{event_type} → {label}"] = round(1000 * seconds / n, 1)
        return hops


def baseline_cost(broker, work, n):
    """`work()` (the raw pika baseline), and the CPU ms per 1,000 messages it cost the broker and
    this process (pika publishing and consuming): (work's result, {"rabbitmq": ms, "pika": ms})."""
    was, own = (cpu_seconds(broker) if broker else None), os.times()
    result = work()
    now, own_after = (cpu_seconds(broker) if broker else None), os.times()
    per_1000 = 1000.0 / max(n, 1)
    cost = {"pika": round(1000 * ((own_after.user - own.user) + (own_after.system - own.system)) * per_1000, 1)}
    if was is not None and now is not None:
        cost["rabbitmq"] = round(1000 * (now - was) * per_1000, 1)
    return result, cost
