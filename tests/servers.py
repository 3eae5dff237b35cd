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
    requests.put(
        f"{RABBIT_API}/permissions/{vhost}/guest", timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}
    ).raise_for_status()
    return vhost


def delete_vhost(vhost):
    requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=30)


def pg_admin():
    """A connection to the server's `postgres` database, to create and drop databases."""
    import pg8000.native
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return pg8000.native.Connection(
        url.username or "postgres",
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        database="postgres",
        password=url.password,
    )


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


class ConfinedVhost:
    """deploy/rabbitmq/definitions.json loaded as written into a fresh vhost, its users renamed
    with a suffix of their own (users are the broker's, not the vhost's) and given passwords:
    `uri("spc-funding")` logs in as that user, confined as in deployment. guest may also do
    anything there (the tests' own observer). `close()` deletes the vhost and the users."""

    def __init__(self, prefix="spc_defs"):
        import json
        from pathlib import Path

        self.vhost = unique(prefix)
        tag = self.vhost.rsplit("_", 1)[1][:8]
        text = (Path(__file__).resolve().parents[1] / "deploy/rabbitmq/definitions.json").read_text()
        doc = json.loads(
            text.replace('"vhost": "spc"', f'"vhost": "{self.vhost}"').replace('"name": "spc"', f'"name": "{self.vhost}"')
        )
        self.users = {}
        for section in ("users", "permissions", "topic_permissions"):
            for item in doc[section]:
                key = "name" if section == "users" else "user"
                item[key] = self.users.setdefault(item[key], f"{item[key]}-{tag}")
        self.definitions = doc
        requests.post(f"{RABBIT_API}/definitions", json=doc, timeout=30).raise_for_status()
        for real in self.users.values():
            requests.put(f"{RABBIT_API}/users/{real}", json={"password": "pw-" + real, "tags": ""}, timeout=10).raise_for_status()
        requests.put(
            f"{RABBIT_API}/permissions/{self.vhost}/guest", timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}
        ).raise_for_status()
        self.guest = f"{AMQP_BASE}/{self.vhost}"

    def uri(self, user):
        real = self.users[user]
        return f"amqp://{real}:pw-{real}@{AMQP_BASE.split('@', 1)[1]}/{self.vhost}"

    def close(self):
        delete_vhost(self.vhost)
        for real in self.users.values():
            requests.delete(f"{RABBIT_API}/users/{real}", timeout=10)
