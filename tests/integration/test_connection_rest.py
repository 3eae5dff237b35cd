"""A pooled PostgreSQL connection is pinged on checkout only after it rested in the pool
(shared/sql/persistence.ping_after_rest): one the server closed meanwhile is replaced without the
caller seeing it, one handed back a moment ago costs no round trip, and one that dies while in
use fails that transaction only, the pool replacing every connection after it."""

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from spc.shared.sql import persistence

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_url, monkeypatch):
    monkeypatch.setattr(persistence, "PING_AFTER_REST_SECONDS", 0.2)
    engine = persistence.make_engine(pg_url)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn))
    engine.pings = pings
    yield engine
    engine.dispose()


def backend_pid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


@pytest.fixture
def terminate(pg_url):
    """Ends a server process from another pool (as a restart or an idle timeout would)."""
    other = persistence.make_engine(pg_url)

    def terminate(pid):
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

    yield terminate
    other.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine):
    first = backend_pid(engine)
    for _ in range(20):
        assert backend_pid(engine) == first  # LIFO: the same warm connection each time
    assert engine.pings == []


def test_a_rested_connection_closed_by_the_server_is_replaced_unseen(engine, terminate):
    victim = backend_pid(engine)
    terminate(victim)
    time.sleep(0.3)  # it rests past the threshold
    assert backend_pid(engine) != victim  # pinged, found dead, replaced: no error reaches the caller
    assert len(engine.pings) == 1


def test_a_rested_live_connection_is_pinged_once_then_kept(engine):
    first = backend_pid(engine)
    time.sleep(0.3)
    assert backend_pid(engine) == first and backend_pid(engine) == first
    assert len(engine.pings) == 1


def test_a_connection_that_dies_in_use_fails_that_transaction_only(engine, terminate):
    pid = backend_pid(engine)
    terminate(pid)  # the victim is back in the pool, warm
    with pytest.raises(OperationalError) as failed:
        with engine.connect() as conn:  # no ping (it rested less than the threshold): the statement fails
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
    assert failed.value.connection_invalidated
    assert backend_pid(engine) != pid  # the next transaction has a live connection
