"""Root of the test suite. Rules for every layer:

- eventlet is monkey-patched first (nameko needs it; an unpatched run hangs on the broker).
- Tests that need RabbitMQ or PostgreSQL use the real servers, each test in its own vhost or
  database, created and removed here. A missing server is an error, never a skip.
- Ids are unique per test, so tests never share state.
- CI runs the suite in its short version (under 45 minutes); `SPC_TEST_FULL=1 ./scripts/test`
  runs the full one: the variants marked `full_only` too (README, "Tests").
"""

import eventlet

eventlet.monkey_patch()  # noqa: E402  (must run before anything imports socket or threading)


import os  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402

from tests.servers import (  # noqa: E402
    AMQP_BASE,
    PG_URL,
    RABBIT_API,
    create_vhost,
    delete_vhost,  # noqa: E402,F401
    pg_admin as _pg_admin,
    unique,
)

FULL = os.environ.get("SPC_TEST_FULL") == "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "full_only: a long variant the full suite runs (SPC_TEST_FULL=1), beside a shorter one CI runs"
    )


def pytest_collection_modifyitems(config, items):
    """Without SPC_TEST_FULL=1, the `full_only` variants are deselected (counted as such)."""
    if FULL:
        return
    left_out = [i for i in items if i.get_closest_marker("full_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [i for i in items if i not in left_out]


@pytest.fixture
def amqp_uri():
    """A fresh vhost on the real RabbitMQ, removed after the test."""
    try:
        vhost = create_vhost("spc_test")
    except requests.RequestException as exc:
        pytest.fail(f"RabbitMQ management API unreachable at {RABBIT_API}: {exc}")
    yield f"{AMQP_BASE}/{vhost}"
    delete_vhost(vhost)


@pytest.fixture
def pg_url_factory():
    """Makes fresh PostgreSQL databases on the real server, dropped after the test."""
    made = []
    try:
        admin = _pg_admin()
    except Exception as exc:
        pytest.fail(f"PostgreSQL unreachable at {PG_URL}: {exc}")

    def make(prefix="spc_test"):
        name = unique(prefix)
        admin.run(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{PG_URL}/{name}"

    yield make
    for name in made:
        admin.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def pg_url(pg_url_factory):
    return pg_url_factory()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Both databases SPC supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def broker_uri(amqp_uri):
    """Where the fleet's services connect (the cluster layer points it at three nodes)."""
    return amqp_uri


@pytest.fixture
def fleet(broker_uri, db_urls, tmp_path):
    """The four services as processes on `db_urls` (each layer says which), not started: call
    fleet.start()."""
    from tests.support import Fleet

    fleet = Fleet(broker_uri, db_urls, tmp_path)
    try:
        yield fleet
    finally:
        fleet.close()
        print(fleet.logs())


@pytest.fixture
def ledger(db_urls):
    """Reads the services' databases after a fault: nothing lost, no effect twice."""
    from tests.faults.ledger import Ledger

    ledger = Ledger(db_urls)
    yield ledger
    ledger.close()
