"""Faults run through the checker (tests/faults/checker.py, issue 27): inbound events published
with confirms while the fault lasts (violations, citizen reports, counter updates) and staff
releasing tranches at the same time; once healed and settled, every confirmed event applied once,
nothing duplicated or unexpected, no tranche paid twice, every violated service suspended
everywhere and every other one still active.

- no fault: the checker's baseline (everything confirmed, everything applied);
- a replica frozen (SIGSTOP, 40 s by default: SPC_FREEZE_SECONDS), then woken, while its twin
  goes on: the broker gives the frozen process's unacknowledged messages to the twin after two
  missed heartbeats (SPC_HEARTBEAT, 5 s here); PostgreSQL ends the frozen process's open
  transaction after idle_in_transaction_session_timeout (shared/sql/persistence.py), so the twin is
  not held up by its locks; when the process wakes, nothing it had half done counts twice."""

import os
import signal
import time

from tests.faults import story
from tests.faults.checker import KINDS, Releases, Workload, by_service, observe, classify, run_report, violable_split
from tests.support import Fleet, metric, wait_for

COUNTERS = (("fs-a", "35", "35238"), ("fs-b", "35", "35047"))
# longer than idle_in_transaction_session_timeout (30 s), so PostgreSQL ends its open transaction
FREEZE_SECONDS = float(os.environ.get("SPC_FREEZE_SECONDS", "40"))
SERVICES = ("registry", "funding", "distribution", "audit")


def scene(api, amqp_uri, services=6, tranches=3):
    """Counters, `services` active services, each funded in `tranches` and listed."""
    setup = story.counters(amqp_uri, COUNTERS)
    sids = [story.active_service(api) for _ in range(services)]
    funded = {sid: story.funded(api, sid, tranches=tranches, amount=1_000) for sid in sids}
    for sid in sids:
        wait_for("listed", lambda s=sid: story.listing_statuses(api, s) == {"published"})
    return setup, sids, funded


def test_without_a_fault_every_confirmed_event_is_applied_once(fleet, amqp_uri, db_urls, ledger):
    fleet.start()
    setup, sids, funded = scene(fleet.api, amqp_uri)
    violable, untouched = violable_split(sids)
    work = Workload(amqp_uri, sids, COUNTERS, violable=violable, rate=40, limit=240)
    releases = Releases(fleet.api, by_service(funded))
    work.start()
    releases.start()
    work.join(timeout=120)
    releases.stop()
    report = run_report(db_urls, work, setup, releases, [t for ts in funded.values() for t in ts], untouched, ledger)
    report.assert_clean()
    assert all(report.kinds[k]["ok"] == report.kinds[k]["sent"] > 0 for k in KINDS), report.table()


def test_a_frozen_replica_s_messages_go_to_its_twin_and_nothing_counts_twice_when_it_wakes(amqp_uri, db_urls, tmp_path, ledger):
    fleets = []
    for name in ("frozen", "twin"):
        (tmp_path / name).mkdir()
        fleets.append(Fleet(amqp_uri, db_urls, tmp_path / name, env={"SPC_HEARTBEAT": "5"}))
    frozen, twin = fleets
    try:
        for fleet in fleets:
            fleet.start()
        setup, sids, funded = scene(twin.api, amqp_uri)
        violable, untouched = violable_split(sids)
        work = Workload(amqp_uri, sids, COUNTERS, violable=violable, rate=40)
        releases = Releases(twin.api, by_service(funded), interval=FREEZE_SECONDS / 20)
        work.start()
        releases.start()
        time.sleep(3)  # both replicas at work, messages in flight in each
        pids = [frozen.procs[name].pid for name in SERVICES]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(FREEZE_SECONDS)
            # still frozen: what was confirmed up to a heartbeat timeout ago is applied, by the twin
            cutoff = len(work.history) - int(work.rate * 15)
            wait_for(
                "the twin applied what the frozen replica held",
                lambda: not [p for p in classify(work.history[:cutoff], observe(db_urls)).problems if p.startswith("lost")],
                timeout=60,
            )
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        time.sleep(5)  # the woken replica finds its connections gone, reconnects, goes on
        work.stop()
        releases.stop()
        report = run_report(db_urls, work, setup, releases, [t for ts in funded.values() for t in ts], untouched, ledger)
        report.assert_clean()
        assert sum(metric(twin.api, name, f"spc_{name}_redeliveries_total") or 0 for name in SERVICES) > 0
        for name in SERVICES:  # the woken replica is whole again
            frozen.wait_ready(name, timeout=60)
    finally:
        for fleet in fleets:
            fleet.close()
