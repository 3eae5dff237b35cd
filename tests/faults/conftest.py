"""Fault layer: real RabbitMQ, real PostgreSQL (a database per service per test), services as
separate processes or in-process clusters, faults injected for real (SIGKILL, broker restart,
database refusing connections) or at failpoints (shared/observe/failpoints.py)."""

import pytest

from spc.runtime.config import SERVICE_NAMES
from tests.support import EventTap


@pytest.fixture
def db_urls(pg_url_factory):
    return {name: pg_url_factory(f"spc_fault_{name}") for name in SERVICE_NAMES}


@pytest.fixture(params=[pytest.param("sqlite", marks=pytest.mark.full_only), "postgresql"])
def any_db_urls(request, tmp_path):
    """A database per service, on PostgreSQL and, in the full suite (SPC_TEST_FULL=1), on SQLite
    too (for the tests that must hold on both: the embedded mode's database)."""
    if request.param == "sqlite":
        return {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in SERVICE_NAMES}
    make = request.getfixturevalue("pg_url_factory")
    return {name: make(f"spc_fault_{name}") for name in SERVICE_NAMES}


@pytest.fixture
def tap(amqp_uri):
    """A queue of the test's own on spc.events, bound before any service starts."""
    return EventTap(amqp_uri)
