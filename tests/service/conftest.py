"""Service layer: the four nameko services in this process, on the real RabbitMQ (a vhost per
test) and SQLite or PostgreSQL; driven over HTTP and AMQP like their users do."""

import pytest
import requests

from spc.runtime import config
from spc.runtime.runner import Cluster
from tests.support import TOKENS_ENV, Api, metric, reserve_ports


@pytest.fixture
def cluster_factory(amqp_uri, tmp_path):
    started = []

    def start(names=config.SERVICE_NAMES, db_urls=None, ports=None, **extra_env):
        ports = ports or reserve_ports(list(config.SERVICE_NAMES))
        env = {
            "AMQP_URI": amqp_uri,
            "SPC_DATA_DIR": str(tmp_path),
            "SPC_BIND": "127.0.0.1",
            "SPC_ADMIN_TOKENS": TOKENS_ENV,
            "SPC_UNKNOWN_SERVICE_WINDOW": "2",  # a fact about an unknown service waits 2 s
            # every test is one client (127.0.0.1): its deliberate bad tokens (the role matrix,
            # a token polled until reloaded) would spend the bound; test_hardening.py holds it
            "SPC_AUTH_FAILURES_PER_MINUTE": "0",
            **{f"{n.upper()}_PORT": str(p) for n, p in ports.items()},
            **{f"{n.upper()}_DATABASE_URL": u for n, u in (db_urls or {}).items()},
            **extra_env,
        }
        cluster = Cluster(config.load(env), names).start()
        started.append((cluster, names, Api(ports)))
        return cluster, started[-1][2]

    yield start
    for cluster, names, api in started:
        # every error answered during the test is one its endpoint declares (openapi.yaml lists it)
        try:
            undeclared = {n: metric(api, n, f"spc_{n}_http_undeclared_errors_total") for n in names}
        except requests.ConnectionError:  # the test stopped it already
            undeclared = {}
        cluster.stop()
        assert not any(undeclared.values()), f"errors answered but not declared in @api: {undeclared}"


@pytest.fixture
def spc(cluster_factory):
    """All four services, SQLite databases; returns the HTTP helper."""
    return cluster_factory()[1]
