"""Root of the test suite. Rules for every layer:

- eventlet is monkey-patched first (nameko needs it; an unpatched run hangs on the broker).
- Tests that need RabbitMQ or PostgreSQL use the real servers, each test in its own vhost or
  database, created and removed here. A missing server is an error, never a skip.
- Ids are unique per test, so tests never share state.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must run before anything imports socket or threading)

import os  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402

AMQP_BASE = os.environ.get("SPC_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672")
RABBIT_API = os.environ.get("SPC_TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
PG_URL = os.environ.get("SPC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def amqp_uri():
    """A fresh vhost on the real RabbitMQ, removed after the test."""
    vhost = unique("spc_test")
    try:
        requests.put(f"{RABBIT_API}/vhosts/{vhost}", timeout=10).raise_for_status()
        requests.put(f"{RABBIT_API}/permissions/{vhost}/guest", timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"RabbitMQ management API unreachable at {RABBIT_API}: {exc}")
    yield f"{AMQP_BASE}/{vhost}"
    requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=30)


def _pg_admin():
    import pg8000.native
    from sqlalchemy.engine import make_url
    url = make_url(PG_URL)
    return pg8000.native.Connection(url.username or "postgres", host=url.host or "127.0.0.1",
                                    port=url.port or 5432, database="postgres",
                                    password=url.password)


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
