"""What every benchmark needs: a fresh vhost on the real RabbitMQ, fresh PostgreSQL databases,
the four services as `spc run` processes (tests.support.Fleet), and direct reads of their
databases (to time effects without adding HTTP load)."""
import contextlib
import os
import tempfile
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import func, select

from spc.config import SERVICE_NAMES
from spc.shared.persistence import make_engine

AMQP_BASE = os.environ.get("SPC_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672")
RABBIT_API = os.environ.get("SPC_TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
PG_URL = os.environ.get("SPC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def vhost():
    name = f"spc_bench_{uuid.uuid4().hex[:10]}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    uri = f"{AMQP_BASE}/{name}"
    from kombu import Connection
    from spc.shared import topology
    with Connection(uri) as conn:  # as a service would, so what we publish before one starts is kept
        topology.declare_all(conn.default_channel)
    try:
        yield uri
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}", timeout=30)


@contextlib.contextmanager
def databases():
    """A fresh PostgreSQL database per service, dropped afterwards."""
    import pg8000.native
    from sqlalchemy.engine import make_url
    url = make_url(PG_URL)
    admin = pg8000.native.Connection(url.username or "postgres", host=url.host or "127.0.0.1",
                                     port=url.port or 5432, database="postgres", password=url.password)
    names = {n: f"spc_bench_{n}_{uuid.uuid4().hex[:8]}" for n in SERVICE_NAMES}
    for db in names.values():
        admin.run(f'CREATE DATABASE "{db}"')
    try:
        yield {n: f"{PG_URL}/{db}" for n, db in names.items()}
    finally:
        for db in names.values():
            admin.run(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def stack():
    """(amqp_uri, fleet, db): the four services ready on a fresh vhost and fresh databases."""
    from tests.support import Fleet
    with vhost() as amqp_uri, databases() as urls, tempfile.TemporaryDirectory() as tmp:
        fleet = Fleet(amqp_uri, urls, Path(tmp))
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
        from spc.runner import service_class
        from spc.shared.migrations import upgrade
        import importlib
        module = importlib.import_module(service_class(service).__module__)
        upgrade(self.engines[service], service, module.MIGRATIONS)

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
