"""Cluster layer: SPC on a local three-node RabbitMQ cluster (scripts/rabbitmq-cluster, started by
scripts/prepare beside the machine's broker), the services given the three nodes as a failover
list; a node is killed, stopped or restarted for real. Every test runs on RabbitMQ 3.10 (the
machine's rabbitmq-server) and on 4.0 (three containers of the trixie stand-in). Each test gets
its own vhost on the cluster and its own databases; a node a test took down is brought back before
the next test. CI runs the five on 3.10 (the 4.0 broker runs CI's whole compose story:
tests/deploy); the full suite (SPC_TEST_FULL=1, or SPC_CLUSTER_ALL=1 for this layer) runs them on
4.0 too."""

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.servers import unique

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "rabbitmq-cluster"
API = "http://guest:guest@127.0.0.1:15622/api"
NODES = ("spc1", "spc2", "spc3")
PORTS = {"spc1": 5622, "spc2": 5632, "spc3": 5642}


def pytest_collection_modifyitems(config, items):
    """The 4.0 line of this layer is the full suite's (docs/deploy.md, "RabbitMQ lines")."""
    if "1" in (os.environ.get("SPC_CLUSTER_ALL"), os.environ.get("SPC_TEST_FULL")):
        return
    left_out = [i for i in items if i.nodeid.startswith("tests/cluster/") and i.nodeid.endswith("[4.0]")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if i not in left_out]


def _up():
    try:
        return len([n for n in requests.get(f"{API}/nodes", timeout=5).json() if n.get("running")]) == 3
    except requests.RequestException:
        return False


def _host_cluster_up():
    return (
        subprocess.run(
            ["rabbitmqctl", "-q", "-n", "spc1@localhost", "await_online_nodes", "3", "--timeout", "2"], capture_output=True
        ).returncode
        == 0
    )


@pytest.fixture(scope="session", params=["3.10", "4.0"])
def rabbit_cluster(request):
    """The cluster on each RabbitMQ line SPC supports (docs/deploy.md): 3.10, the machine's
    rabbitmq-server; 4.0, containers of the trixie stand-in (scripts/images), on the same ports."""
    if request.param == "3.10":
        started = False
        if not _host_cluster_up():
            if os.environ.get("CI") == "true":
                pytest.fail("the three-node cluster is not running: scripts/prepare starts it (scripts/rabbitmq-cluster start)")
            subprocess.run([str(SCRIPT), "start"], check=True, timeout=180)
            started = True
        yield Cluster()
        if started:
            subprocess.run([str(SCRIPT), "stop"], timeout=120)
        return
    image = _standin_rabbitmq_4(request)
    subprocess.run([str(SCRIPT), "stop"], timeout=120, capture_output=True)  # the same ports
    cluster = Cluster(image)
    try:
        cluster.run("start", timeout=300)
        yield cluster
    finally:
        # the machine's nodes stay stopped: the 3.10 tests ran first (params order), and the next
        # scripts/test (or the 3.10 fixture, outside CI) starts them again; restarting them here
        # cost 50 s at the end of every run
        cluster.run("stop")


def _standin_rabbitmq_4(request):
    from tests.deploy.conftest import _missing
    from tests.deploy.stack import standin_images

    missing = _missing()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(f"RabbitMQ 4.0 cluster: missing {missing}")
    if missing:
        pytest.skip(f"RabbitMQ 4.0 cluster: missing {missing}")
    return standin_images()["SPC_RABBITMQ_IMAGE"]


class Cluster:
    def __init__(self, image=None):
        self.env = {k: v for k, v in os.environ.items() if k != "SPC_CLUSTER_IMAGE"}
        if image:
            self.env["SPC_CLUSTER_IMAGE"] = image

    def run(self, *args, timeout=120):
        subprocess.run([str(SCRIPT), *args], check=True, timeout=timeout, capture_output=True, env=self.env)

    def kill(self, node):
        self.run("kill", node)

    def revive(self, node):
        self.run("revive", node, timeout=180)

    def ctl(self, node, *args):
        self.run("ctl", node, *args)

    def leader(self, vhost, queue):
        info = requests.get(f"{API}/queues/{vhost}/{queue}", timeout=10).json()
        return info["leader"].split("@")[0]

    def heal(self):
        """Every node running again, and the three seen by the others."""
        for node in NODES:
            if (
                subprocess.run(
                    [str(SCRIPT), "ctl", node, "await_startup", "--timeout", "2"], capture_output=True, env=self.env
                ).returncode
                != 0
            ):
                try:
                    self.ctl(node, "start_app")
                except subprocess.CalledProcessError:
                    self.revive(node)
        deadline = time.monotonic() + 90
        while not _up() and time.monotonic() < deadline:
            time.sleep(1)
        assert _up(), "the cluster did not come back to three nodes"


@pytest.fixture
def cluster(rabbit_cluster):
    yield rabbit_cluster
    rabbit_cluster.heal()


@pytest.fixture
def cluster_vhost(cluster):
    vhost = unique("spc_cluster")
    requests.put(f"{API}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(
        f"{API}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10
    ).raise_for_status()
    yield vhost
    cluster.heal()  # the management API lives on spc1, which a test may have killed
    requests.delete(f"{API}/vhosts/{vhost}", timeout=30)


@pytest.fixture
def cluster_uri(cluster_vhost):
    """AMQP_URI as an operator writes it for three nodes: the kombu failover list."""
    return ";".join(f"amqp://guest:guest@127.0.0.1:{PORTS[n]}/{cluster_vhost}" for n in NODES)


def node_uri(node, vhost):
    return f"amqp://guest:guest@127.0.0.1:{PORTS[node]}/{vhost}"


@pytest.fixture
def db_urls(pg_url_factory):
    return {name: pg_url_factory(f"spc_cluster_{name}") for name in ("registry", "funding", "distribution", "audit")}


@pytest.fixture
def broker_uri(cluster_uri):
    """The fleet and the ledger (tests/conftest.py) run on the cluster."""
    return cluster_uri
