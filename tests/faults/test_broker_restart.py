"""Fault 1: the broker restarts mid-stream. On a RabbitMQ node this test starts for itself beside
the machine's broker (its own node name, ports and folders): stopping it stops nothing else, so
other jobs on the machine's broker never see this fault."""

import os
import subprocess
import threading
import time

import pytest

from tests.faults import story
from tests.support import wait_for


class OwnBroker:
    """A RabbitMQ node of this test's own beside the machine's broker (own node name, AMQP and
    distribution ports, folders), so that stopping it stops nothing else on the machine."""

    def __init__(self):
        import shutil
        import uuid
        from pathlib import Path

        from spc.cli.client import free_ports

        self.node = f"spcfault{uuid.uuid4().hex[:8]}@localhost"
        ports = free_ports(["amqp", "dist"])
        self.dir = Path(f"/tmp/{self.node.split('@')[0]}")
        (self.dir / "mnesia").mkdir(parents=True)
        (self.dir / "log").mkdir()
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{ports['amqp']}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        shutil.chown(self.dir, "rabbitmq", "rabbitmq")
        for path in self.dir.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_DIST_PORT=str(ports["dist"]),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
        )
        self.uri = f"amqp://guest:guest@127.0.0.1:{ports['amqp']}/"

    def start(self):
        subprocess.run(
            ["rabbitmq-server", "-detached"],
            env=self.env,
            check=True,
            timeout=60,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while True:  # await_startup fails at once until the node has registered with epmd
            try:
                return self.ctl("await_startup", "--timeout", "5")
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def ctl(self, *args):
        subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.node, *args],
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self):
        import shutil

        subprocess.run(["rabbitmqctl", "-q", "-n", self.node, "stop"], timeout=120, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_broker():
    broker = OwnBroker()
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def amqp_uri(own_broker):
    """This module's services, tap and publishers use the test's own node (its default vhost)."""
    return own_broker.uri


@pytest.mark.timeout(300)
def test_broker_restart_mid_stream_loses_nothing(fleet, own_broker, amqp_uri, ledger, tap):
    fleet.start()
    api = fleet.api
    inbound = story.counters(amqp_uri)
    registered, errors, stop = [], [], threading.Event()

    def stream():  # staff keep working through the outage: writes go to the outbox
        while not stop.is_set():
            try:
                registered.append(story.active_service(api))
            except Exception as exc:  # noqa: BLE001 (recorded and asserted below)
                errors.append(repr(exc))
            time.sleep(0.05)

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_for("a few services registered", lambda: len(registered) >= 5)
        own_broker.ctl("stop_app")  # the test's own node: nothing else on the machine stops
        before_restart = len(registered)
        time.sleep(3)
        own_broker.ctl("start_app")
        own_broker.ctl("await_startup")
        wait_for("more services registered after the restart", lambda: len(registered) >= before_restart + 5, timeout=60)
    finally:
        stop.set()
        writer.join()
    assert not errors, errors[:3]  # the HTTP side never needed the broker
    for name in ("registry", "funding", "distribution", "audit"):  # reconnected, no restart
        fleet.wait_ready(name, timeout=90)
        assert fleet.procs[name].poll() is None
    for sid in registered:
        story.wait_active_everywhere(api, sid, timeout=90)
    sid = registered[0]
    inbound.append(story.violation(amqp_uri, sid))
    story.wait_suspended_everywhere(api, sid)
    summary = ledger.check(inbound, tap, timeout=90)
    assert summary["lost"] == 0 and summary["events"] >= 3 * len(registered)  # submitted, approved, listed
