"""Where the real RabbitMQ and PostgreSQL are, and how to get a fresh vhost or database on them.
Shared by the test fixtures (conftest.py) and the benchmarks (bench/), so it must not
monkey-patch anything: importing it is free of side effects."""
import os
import uuid

import requests

AMQP_BASE = os.environ.get("SPC_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672")
RABBIT_API = os.environ.get("SPC_TEST_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
PG_URL = os.environ.get("SPC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_vhost(prefix):
    """A fresh vhost where guest may do anything; returns its name (raises if the API is away)."""
    vhost = unique(prefix)
    requests.put(f"{RABBIT_API}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{vhost}/guest", timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return vhost


def delete_vhost(vhost):
    requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=30)


def pg_admin():
    """A connection to the server's `postgres` database, to create and drop databases."""
    import pg8000.native
    from sqlalchemy.engine import make_url
    url = make_url(PG_URL)
    return pg8000.native.Connection(url.username or "postgres", host=url.host or "127.0.0.1",
                                    port=url.port or 5432, database="postgres",
                                    password=url.password)


def refuse_connections(url, refuse):
    """PostgreSQL stops (refuse=True: and cuts the sessions of) or resumes taking connections to
    the database at `url`: the database 'goes away' without stopping the server others use."""
    admin, database = pg_admin(), url.rsplit("/", 1)[1]
    try:
        admin.run(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d", d=database)
    finally:
        admin.close()
