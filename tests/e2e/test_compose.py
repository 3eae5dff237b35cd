"""deploy/compose.yaml as processes: no Docker engine here, so each SPC container of the compose
file is started as a local process with its exact command and environment (the values of
deploy/.env.example), its hostnames mapped to this machine, against the local RabbitMQ loaded
with the definitions compose loads (`spc definitions --passwords-from-env`) and the local
PostgreSQL set up by the compose file's own init script. Then the story runs through them, with
the external systems publishing under their own users. A wrong command, variable, user,
password or permission in the compose file fails here.

Isolation from other tests (one shared broker and database server): the vhost, the broker users
and the PostgreSQL roles and databases get a suffix of this test, applied the same way to the
definitions, the init script and the environment; each service listens on a free port. The
machine's broker speaks clear-text AMQP: the compose file's `amqps://…@rabbitmq:5671` becomes
`amqp://…:5672` here, without the CA (TLS in the containers is tests/deploy/test_compose_stack.py's)."""

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from spc.generate import definitions
from spc.cli.client import reserve_ports
from spc.runtime.fleet import spec
from spc.shared.sql.persistence import make_engine
from tests.faults import story
from tests.servers import AMQP_BASE, PG_URL, RABBIT_API, pg_admin
from tests.support import Api, stop_processes, tokens_of, wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
DOTENV = dict(
    line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines() if line.strip() and not line.startswith("#")
)


def substituted(value, env):
    """Compose's variable substitution: ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def one(match):
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and env[name] != "":
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, str(value))


class World:
    """The broker and database server as compose would have set them up, under this test's suffix."""

    def __init__(self, tmp_path):
        self.tag = uuid.uuid4().hex[:8]
        self.vhost = f"spc_compose_{self.tag}"
        self.host = AMQP_BASE.split("@", 1)[1].split(":")[0]
        self.tokens_file = tmp_path / "admin-tokens"
        self.tokens_file.write_text((DEPLOY / "admin-tokens.example").read_text())
        self.tmp = tmp_path

    def user(self, name):
        return f"{name}-{self.tag}"

    def load_broker(self):
        """What the `broker-definitions` container writes (its own command and environment),
        loaded as the broker loads it at boot."""
        command = [arg.replace("/definitions/", f"{self.tmp}/") for arg in self.command("broker-definitions")]
        done = subprocess.run(command, env=self.environment("broker-definitions"), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        doc = json.loads((self.tmp / "definitions.json").read_text())
        assert all(u["password_hash"] for u in doc["users"]), "a user without a password in .env.example"
        doc = json.loads(json.dumps(doc).replace('"vhost": "spc"', f'"vhost": "{self.vhost}"'))
        doc["vhosts"] = [{"name": self.vhost}]
        for section, key in (("users", "name"), ("permissions", "user"), ("topic_permissions", "user")):
            for item in doc[section]:
                item[key] = self.user(item[key])
        requests.post(f"{RABBIT_API}/definitions", json=doc, timeout=30).raise_for_status()
        self.users = [u["name"] for u in doc["users"]]

    def init_databases(self):
        env = dict(
            os.environ,
            POSTGRES_USER="postgres",
            SPC_DB_SUFFIX=f"_{self.tag}",
            PGHOST="127.0.0.1",
            PGPORT="5432",
            **{k: v for k, v in DOTENV.items() if k.startswith("SPC_DB_")},
        )
        done = subprocess.run(
            ["sh", str(DEPLOY / "postgres/init-databases.sh")], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr

    def mapped(self, value):
        """A value of the compose file as it reads on this machine, under this test's suffix."""
        value = re.sub(r"^amqps://(.*)@rabbitmq:5671/", r"amqp://\1@rabbitmq:5672/", value)
        value = value.replace("@rabbitmq:", f"@{self.host}:").replace("@postgres:", "@127.0.0.1:")
        value = re.sub(r"^amqp://([a-z-]+):", lambda m: f"amqp://{self.user(m.group(1))}:", value)
        value = re.sub(r"/spc$", f"/{self.vhost}", value)
        value = re.sub(
            r"^postgresql://(spc_[a-z]+):(.*)/([a-z]+)$",
            lambda m: f"postgresql://{m.group(1)}_{self.tag}:{m.group(2)}/{m.group(3)}_{self.tag}",
            value,
        )
        return value.replace("/run/secrets/spc_admin_tokens", str(self.tokens_file))

    def environment(self, name, port=None):
        compose_env = {
            k: self.mapped(substituted(v, DOTENV))
            for k, v in SERVICES[name].get("environment", {}).items()
            if k != "SPC_AMQP_CA_FILE"
        }
        env = dict(os.environ, SPC_DATA_DIR=str(self.tmp), SPC_BIND="127.0.0.1", **compose_env)
        if port:
            env[f"{name.upper()}_PORT"] = str(port)
        return env

    def command(self, name):
        command = SERVICES[name]["command"]
        assert command[0] == "spc"
        return [sys.executable, "-m", "spc.cli", *command[1:]]

    def amqp(self, user):
        return f"amqp://{self.user(user)}:{DOTENV[definitions.password_env(user)]}@{self.host}:5672/{self.vhost}"

    def cleanup(self):
        requests.delete(f"{RABBIT_API}/vhosts/{self.vhost}", timeout=30)
        for user in getattr(self, "users", []):
            requests.delete(f"{RABBIT_API}/users/{user}", timeout=10)
        admin = pg_admin()
        try:
            for service in ("registry", "funding", "distribution", "audit"):
                admin.run(f'DROP DATABASE IF EXISTS "{service}_{self.tag}" WITH (FORCE)')
                admin.run(f'DROP ROLE IF EXISTS "spc_{service}_{self.tag}"')
        finally:
            admin.close()


@pytest.fixture
def world(tmp_path):
    assert PG_URL.startswith("postgresql://"), PG_URL
    w = World(tmp_path)
    try:
        w.load_broker()
        w.init_databases()
        yield w
    finally:
        w.cleanup()


def test_the_broker_loads_at_boot_the_file_the_definitions_container_writes():
    out = SERVICES["broker-definitions"]["command"][-1]
    written_to = next(v.split(":")[1] for v in SERVICES["broker-definitions"]["volumes"] if v.startswith("rabbitmq-definitions:"))
    mounted_at = next(v.split(":")[1] for v in SERVICES["rabbitmq"]["volumes"] if v.startswith("rabbitmq-definitions:"))
    conf = (DEPLOY / "rabbitmq/rabbitmq.conf").read_text()
    assert out.startswith(written_to + "/")
    assert f"load_definitions = {mounted_at}/{Path(out).name}" in conf


def test_each_spc_container_of_the_compose_file_has_its_port_its_health_check_and_a_migration_first():
    for name in ("registry", "funding", "distribution", "audit"):
        service = SERVICES[name]
        # plain http on this machine only; https through the proxy, to the same port
        assert service["ports"] == [f"127.0.0.1:${{SPC_{name.upper()}_PORT:-{spec(name).port}}}:{spec(name).port}"]
        https = spec(name).port + 440
        assert f"${{SPC_{name.upper()}_HTTPS_PORT:-{https}}}:{https}" in SERVICES["proxy"]["ports"]
        assert f"listen {https} ssl;\n    set $spc {name}:{spec(name).port};" in (DEPLOY / "proxy/spc.conf").read_text()
        assert service["environment"]["SPC_HEALTH_PORT"] == str(spec(name).port)
        assert service["depends_on"][f"migrate-{name}"] == {"condition": "service_completed_successfully"}
        assert SERVICES[f"migrate-{name}"]["command"] == ["spc", "migrate", name]
        assert service["read_only"] is True and "secrets" in service


def test_the_compose_file_runs_the_story_as_processes(world):
    names = ("registry", "funding", "distribution", "audit")
    for name in names:  # the migration step, twice: safe to run again
        for _ in range(2):
            done = subprocess.run(
                world.command(f"migrate-{name}"),
                env=world.environment(f"migrate-{name}"),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    ports = reserve_ports(list(names))
    procs = {}
    try:
        for name in names:
            log = open(world.tmp / f"{name}.log", "w")
            procs[name] = subprocess.Popen(
                world.command(name), env=world.environment(name, ports[name]), stdout=log, stderr=subprocess.STDOUT
            )
        api = Api(ports, tokens_of(world.tokens_file))
        for name in names:
            wait_for(f"{name} ready", lambda n=name: api.call("GET", n, "/health/ready", None).status_code == 200, timeout=60)
        story.counters(world.amqp("ext-france-services-directory"))
        sid = story.active_service(api)
        story.funded(api, sid)
        wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"})
        story.violation(world.amqp("ext-inspection"), sid)
        story.wait_suspended_everywhere(api, sid)
    finally:
        stop_processes(procs, world.tmp)


def test_a_service_s_database_role_cannot_reach_another_service_s_database(world):
    registry_url = world.mapped(substituted(SERVICES["registry"]["environment"]["REGISTRY_DATABASE_URL"], DOTENV))
    elsewhere = make_engine(registry_url.rsplit("/", 1)[0] + f"/funding_{world.tag}")
    with pytest.raises(DBAPIError, match="permission denied"):
        with elsewhere.connect() as conn:
            conn.execute(text("SELECT 1"))
    elsewhere.dispose()
