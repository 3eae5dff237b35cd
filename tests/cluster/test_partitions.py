"""Network partitions between broker nodes (issue 27), on three hosts of their own: each RabbitMQ
node in a network namespace with its own address, joined by a bridge to this machine, where SPC
and the checker run (scripts/rabbitmq-netns-cluster; the machine's RabbitMQ, 3.10). Packets are
dropped with iptables, so each side sees the other go silent, as with a broken switch: no
connection is closed cleanly, the nodes find out by their ticks (`net_ticktime`, 10 s there).

With the checker's workload (violations, reports and counter updates published with confirms
through the failover list) and staff releasing tranches all along, in turn:

1. one node cut off from the two others, the services on the majority side;
2. one node cut off from the two others *and* this machine cut off from those two: the services
   and the publishers reach only the minority node, which pauses (`pause_minority`): nothing is
   confirmed, staff writes wait in the outbox;
3. a ring of majorities: the first and third nodes cut from each other, the second seeing both.

Each is healed before the next, and once the cluster is whole again the checker finds every
confirmed event applied once, nothing twice, no tranche paid twice, every violated service
suspended everywhere."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.faults.checker import VIOLATION, Releases, Workload, by_service, run_report, violable_split
from tests.faults.test_checked_faults import COUNTERS, scene
from tests.servers import unique

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rabbitmq-netns-cluster"
ADDRESSES = {"spc1": "10.77.0.1", "spc2": "10.77.0.2", "spc3": "10.77.0.3"}
PARTITION_SECONDS = float(os.environ.get("SPC_PARTITION_SECONDS", "25"))


def _run(*args, timeout=120):
    return subprocess.run([str(SCRIPT), *args], check=True, timeout=timeout, capture_output=True, text=True)


@pytest.fixture(scope="module")
def netns_cluster():
    missing = [tool for tool in ("ip", "iptables", "rabbitmq-server") if not shutil.which(tool)]
    if os.geteuid() != 0 or missing:
        why = f"network partitions need root and {', '.join(missing) or 'nothing more'}"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    try:
        _run("start", timeout=240)
    except subprocess.CalledProcessError as exc:
        subprocess.run([str(SCRIPT), "stop"], timeout=240, capture_output=True)
        pytest.fail(f"the partition cluster did not start: {exc.stdout}{exc.stderr}"[-3000:])
    try:
        yield
    finally:
        subprocess.run([str(SCRIPT), "stop"], timeout=240, capture_output=True)


def _api(path, method="GET", **kwargs):
    """The management API of whichever node answers (a paused or cut-off one does not)."""
    error = None
    for address in ADDRESSES.values():
        try:
            response = requests.request(method, f"http://guest:guest@{address}:15672/api{path}", timeout=5, **kwargs)
            response.raise_for_status()
            return response
        except requests.RequestException as exc:
            error = exc
    raise error


def _whole():
    try:
        nodes = _api("/nodes").json()
    except requests.RequestException:
        return False
    return len([n for n in nodes if n.get("running")]) == 3 and not any(n.get("partitions") for n in nodes)


def heal(timeout=120):
    _run("heal")
    deadline = time.monotonic() + timeout
    while not _whole():
        assert time.monotonic() < deadline, "the cluster did not become whole again after the heal"
        time.sleep(1)


@pytest.fixture
def netns_vhost(netns_cluster):
    vhost = unique("spc_partition")
    _api(f"/vhosts/{vhost}", "PUT")
    _api(f"/permissions/{vhost}/guest", "PUT", json={"configure": ".*", "write": ".*", "read": ".*"})
    yield vhost
    heal()
    _api(f"/vhosts/{vhost}", "DELETE")


@pytest.fixture
def broker_uri(netns_vhost):
    """The failover list, as the services and the publishers are given it."""
    return ";".join(f"amqp://guest:guest@{a}:5672/{netns_vhost}" for a in ADDRESSES.values())


@pytest.fixture
def amqp_uri(broker_uri):  # the checker and the scene publish where the services consume
    return broker_uri


PARTITIONS = {
    "spc3 cut off, SPC on the majority side": [("spc3", "spc1"), ("spc3", "spc2")],
    "spc1 cut off, SPC reaching only spc1 (the minority)": [
        ("spc1", "spc2"),
        ("spc1", "spc3"),
        ("host", "spc2"),
        ("host", "spc3"),
    ],
    "a ring of majorities: spc1 and spc3 apart, spc2 seeing both": [("spc1", "spc3")],
}


def test_partitions_between_broker_nodes_lose_nothing_confirmed(fleet, broker_uri, db_urls, ledger):
    fleet.start()
    setup, sids, funded = scene(fleet.api, broker_uri)
    violable, untouched = violable_split(sids)
    work = Workload(broker_uri, sids, COUNTERS, violable=violable, rate=40)
    releases = Releases(fleet.api, by_service(funded), interval=PARTITION_SECONDS * len(PARTITIONS) / 18)
    work.start()
    releases.start()
    windows = {}
    try:
        for name, cuts in PARTITIONS.items():
            time.sleep(3)
            began = time.time()
            for a, b in cuts:
                _run("cut", a, b)
            time.sleep(PARTITION_SECONDS)
            healed = time.time()
            heal()
            windows[name] = (began, healed)
            during = [op for op in work.history if began <= op.at <= healed]
            print(
                f"{name}: {len(during)} published, {sum(op.outcome == 'ok' for op in during)} confirmed "
                f"({sum(op.outcome == 'ok' and op.kind == VIOLATION for op in during)} violations)"
            )
        time.sleep(5)
    finally:
        _run("heal")
        work.stop()
        releases.stop()
    report = run_report(db_urls, work, setup, releases, [t for ts in funded.values() for t in ts], untouched, ledger, timeout=240)
    report.assert_clean()
    # violations were confirmed while the majority took them, with one node cut off
    began, ended = windows["spc3 cut off, SPC on the majority side"]
    assert [op for op in work.history if op.kind == VIOLATION and op.outcome == "ok" and began <= op.at <= ended]
    # the minority confirmed nothing: what was published there, once the cut was in place, was
    # confirmed only after the heal, if at all
    began, healed = windows["spc1 cut off, SPC reaching only spc1 (the minority)"]
    assert not [op for op in work.history if op.outcome == "ok" and began + 1 <= op.at and op.at + op.took < healed]
