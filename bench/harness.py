"""What every benchmark needs: a fresh vhost on the real RabbitMQ, fresh PostgreSQL databases,
the four services as `spc run` processes (tests.support.Fleet), and direct reads of their
databases (to time effects without adding HTTP load)."""

import contextlib
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from spc.runtime.config import SERVICE_NAMES
from spc.shared.sql.persistence import make_engine
from tests.servers import AMQP_BASE, PG_URL, create_vhost, delete_vhost, pg_admin, unique


@contextlib.contextmanager
def vhost():
    name = create_vhost("spc_bench")
    uri = f"{AMQP_BASE}/{name}"
    from kombu import Connection
    from spc.shared.messaging import topology

    with Connection(uri) as conn:  # as a service would, so what we publish before one starts is kept
        topology.declare_all(conn.default_channel)
    try:
        yield uri
    finally:
        delete_vhost(name)


DRIVER = "psycopg"  # the services' PostgreSQL driver (python -m bench --driver)


@contextlib.contextmanager
def databases():
    """A fresh PostgreSQL database per service (its URL naming DRIVER), dropped afterwards."""
    admin = pg_admin()
    names = {n: unique(f"spc_bench_{n}") for n in SERVICE_NAMES}
    for db in names.values():
        admin.run(f'CREATE DATABASE "{db}"')
    try:
        base = make_url(PG_URL).set(drivername=f"postgresql+{DRIVER}")
        yield {n: base.set(database=db).render_as_string(hide_password=False) for n, db in names.items()}
    finally:
        for db in names.values():
            admin.run(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def stack(urls=None, env=None):
    """(amqp_uri, fleet, db): the four services ready on a fresh vhost and fresh databases (or
    the databases of `urls`, {service: URL}); `env`: more of the services' environment."""
    from tests.support import Fleet

    with vhost() as amqp_uri, contextlib.nullcontext(urls) if urls else databases() as urls, tempfile.TemporaryDirectory() as tmp:
        fleet = Fleet(amqp_uri, urls, Path(tmp), env)
        db = Databases(urls)
        try:
            yield amqp_uri, fleet, db
        finally:
            fleet.close()
            db.close()


class Databases:
    def __init__(self, urls):
        self.engines = {n: make_engine(u) for n, u in urls.items()}

    def scalar(self, service, query):
        with self.engines[service].connect() as conn:
            return conn.execute(query).scalar()

    def count(self, service, table):
        return self.scalar(service, select(func.count()).select_from(table))

    def migrate(self, service):
        from spc.runtime.fleet import spec

        spec(service).migrate(self.engines[service])

    def close(self):
        for engine in self.engines.values():
            engine.dispose()


def wait_until(check, timeout, interval=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"not done in {timeout} s")


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]
