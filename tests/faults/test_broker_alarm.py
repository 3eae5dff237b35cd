"""A broker resource alarm (issue 27, item 4): the memory watermark lowered until RabbitMQ raises
its alarm and blocks every publishing connection (`connection.blocked`), with the checker's
workload and staff releases running. SPC keeps answering staff (their writes commit, their
events wait in the outbox), says "blocked" in its metric and its readiness, waits for its
confirms without spinning, and, once the alarm clears, sends everything: the checker finds
nothing lost, nothing twice.

The alarm is the machine's broker's (an alarm is per node, not per vhost): the test restores the
watermark it found, whatever happens."""

import subprocess
import time

import pytest

from tests.faults import story
from tests.faults.checker import Releases, Workload, by_service, run_report, violable_split
from tests.faults.test_checked_faults import COUNTERS, SERVICES, scene
from tests.support import metric, wait_for

ALARM_SECONDS = 20


def _rabbitmqctl(*args):
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def watermark():
    """Set the broker's memory watermark; the one found is put back after the test."""
    found = _rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    if found.returncode != 0:
        pytest.fail(f"rabbitmqctl cannot reach the broker: {found.stderr}")
    previous = found.stdout.strip()
    absolute = previous.startswith("{absolute")

    def restore():
        args = ["absolute", previous.split(",")[1].strip(" }")] if absolute else [previous]
        _rabbitmqctl("set_vm_memory_high_watermark", *args)

    yield lambda fraction: _rabbitmqctl("set_vm_memory_high_watermark", str(fraction))
    restore()


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / 100


def test_a_memory_alarm_blocks_publishing_and_once_cleared_everything_is_sent_once(fleet, amqp_uri, db_urls, ledger, watermark):
    fleet.start()
    api = fleet.api
    setup, sids, funded = scene(api, amqp_uri)
    violable, untouched = violable_split(sids)
    work = Workload(amqp_uri, sids, COUNTERS, violable=violable, rate=40)
    releases = Releases(api, by_service(funded), interval=0.5)
    work.start()
    releases.start()
    time.sleep(3)
    watermark(0.0001)  # the alarm: every publishing connection is blocked
    try:
        # a staff write still answers: committed, its event waits in registry's outbox
        during = story.active_service(api)
        wait_for("registry's publisher blocked", lambda: metric(api, "registry", "spc_registry_broker_blocked") == 1)
        ready = api.call("GET", "registry", "/health/ready", None)
        assert ready.status_code == 200 and ready.json()["broker_blocked"], ready.text
        pid = fleet.procs["registry"].pid
        before = _cpu_seconds(pid)
        time.sleep(ALARM_SECONDS)
        assert _cpu_seconds(pid) - before < 0.25 * ALARM_SECONDS, "the relay spins while blocked"
        assert metric(api, "registry", "spc_registry_outbox_lag_seconds") > ALARM_SECONDS / 2
    finally:
        watermark(0.4)  # cleared (the fixture then restores the machine's own value)
    story.wait_active_everywhere(api, during)  # what waited went out
    for name in SERVICES:
        wait_for(f"{name} unblocked", lambda n=name: metric(api, n, f"spc_{n}_broker_blocked") == 0)
        assert api.call("GET", name, "/health/ready", None).json()["broker_blocked"] is None
    time.sleep(3)
    work.stop()
    releases.stop()
    report = run_report(db_urls, work, setup, releases, [t for ts in funded.values() for t in ts], untouched, ledger)
    report.assert_clean()
    blocked = [op for op in work.history if op.outcome != "ok"]
    assert blocked, "the workload's own publishes were never blocked: no alarm?"
