"""A compose stack of deploy/compose.yaml in real containers, driven as an operator drives it: a
copy of deploy/ with its own .env (from .env.example, with free host ports and the stand-in images
of scripts/images) and admin-tokens, `docker-compose -p <project>` for every step."""

import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

from spc.cli.client import free_ports
from tests.support import Api, envelope, tokens_of

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SPC = ("registry", "funding", "distribution", "audit")
PORT_VARIABLES = (
    "SPC_AMQPS_PORT",
    "SPC_AMQP_PORT",
    "SPC_MANAGEMENT_PORT",
    "SPC_REGISTRY_PORT",
    "SPC_FUNDING_PORT",
    "SPC_DISTRIBUTION_PORT",
    "SPC_AUDIT_PORT",
    "SPC_REGISTRY_HTTPS_PORT",
    "SPC_FUNDING_HTTPS_PORT",
    "SPC_DISTRIBUTION_HTTPS_PORT",
    "SPC_AUDIT_HTTPS_PORT",
    "SPC_PROMETHEUS_PORT",
    "SPC_GRAFANA_PORT",
    "SPC_TEST_POSTGRES_PORT",
)


def run(command, timeout=300, check=True, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


_HTTPS_GET = """
import json, sys
import requests
url, headers, ca, user, password = json.loads(sys.argv[1])
try:
    r = requests.get(url, headers=headers, verify=ca, timeout=15, auth=(user, password) if user else None)
    print(json.dumps({"status": r.status_code, "headers": dict(r.headers), "text": r.text}))
except requests.exceptions.SSLError as exc:
    print(json.dumps({"ssl_error": str(exc)}))
"""


def https_get(url, headers=None, ca=True, auth=None):
    """GET over https from a process of its own: in this one, eventlet's green ssl (monkey-patched
    after pytest's plugins imported ssl) cannot make a TLS context. {status, headers, text} or
    {ssl_error}."""
    import json
    import sys

    args = json.dumps([url, headers or {}, str(ca) if ca is not True else True, *(auth or (None, None))])
    return json.loads(run([sys.executable, "-c", _HTTPS_GET, args], timeout=60).stdout)


def standin_images():
    """{variable: image} of scripts/images --env (the images are built by scripts/prepare)."""
    out = run([str(ROOT / "scripts/images"), "--env"]).stdout
    return dict(line.split("=", 1) for line in out.split())


def build_image(tag, context=ROOT, dockerfile="deploy/Dockerfile"):
    """SPC's image from `context` on the stand-in python base; the seconds it took."""
    start = time.monotonic()
    run(
        [
            "docker",
            "build",
            "-q",
            "--build-arg",
            f"PYTHON_IMAGE={standin_images()['SPC_PYTHON_IMAGE']}",
            "-f",
            str(Path(context) / dockerfile),
            "-t",
            tag,
            str(context),
        ],
        env=dict(os.environ, DOCKER_BUILDKIT="0"),
        timeout=900,
    )
    return time.monotonic() - start


class Stack:
    def __init__(self, workdir, image, rabbitmq_image=None, overrides=()):
        self.dir = Path(workdir) / "deploy"
        shutil.copytree(DEPLOY, self.dir, ignore=shutil.ignore_patterns("k8s", ".env", "admin-tokens"))
        shutil.copy(self.dir / "admin-tokens.example", self.dir / "admin-tokens")
        self.project = f"spctest{uuid.uuid4().hex[:8]}"
        images = standin_images()
        self.ports = free_ports(list(PORT_VARIABLES))
        self.env = self._dotenv()
        self.env.update(images, SPC_IMAGE=image, **{k: str(v) for k, v in self.ports.items()})
        self.env["SPC_PUBLIC_HOST"] = "localhost,spc.test"  # the browser test reaches the proxy as spc.test
        if rabbitmq_image:
            self.env["SPC_RABBITMQ_IMAGE"] = rabbitmq_image
        self.write_env()
        self.files = [self.dir / "compose.yaml"]
        for name in ("compose.test.yaml", *overrides):  # compose files, and the files they mount:
            if (Path(__file__).parent / name).exists():  # the tests' own, or deploy/'s (copied above)
                shutil.copy(Path(__file__).parent / name, self.dir / name)
            if name.endswith(".yaml"):
                self.files.append(self.dir / name)

    # ---- settings, as an operator edits them ----------------------------------------------------
    def _dotenv(self):
        lines = (DEPLOY / ".env.example").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))

    def write_env(self):
        (self.dir / ".env").write_text("".join(f"{k}={v}\n" for k, v in self.env.items()))

    def tokens(self):
        return tokens_of(self.dir / "admin-tokens")

    # ---- docker-compose ------------------------------------------------------------------------
    def command(self, *args):
        """docker-compose with this stack's project and files."""
        return ["docker-compose", "-p", self.project, *sum((["-f", str(f)] for f in self.files), []), *args]

    def compose(self, *args, timeout=300, check=True):
        return run(self.command(*args), timeout=timeout, check=check, cwd=self.dir)

    def compose_bytes(self, *args, out=None, stdin=None, timeout=300):
        """A compose command whose output goes to the file `out`, or whose input is the file
        `stdin` (pg_dump and pg_restore)."""
        with open(out, "wb") if out else open(stdin, "rb") as handle:
            done = subprocess.run(
                self.command(*args),
                cwd=self.dir,
                timeout=timeout,
                stderr=subprocess.PIPE,
                stdout=handle if out else subprocess.PIPE,
                stdin=None if out else handle,
            )
        assert done.returncode == 0, done.stderr.decode()[-2000:]

    def up(self, *services, timeout=300):
        """`up -d` of `services` (default: everything but Grafana, which has no stand-in). From
        here on, this process trusts the stack's CA for AMQPS (SPC_AMQP_CA_FILE), as an outside
        publisher given deploy/certs/ca.crt does."""
        if os.environ.get("SPC_AMQP_CA_FILE") != str(self.ca):
            self._ca_before = os.environ.get("SPC_AMQP_CA_FILE")
            os.environ["SPC_AMQP_CA_FILE"] = str(self.ca)
        return self.compose("up", "-d", "--no-build", *(services or (*SPC, "proxy", "prometheus")), timeout=timeout)

    @property
    def ca(self):
        return self.dir / "certs" / "ca.crt"

    def container(self, service):
        return self.compose("ps", "-q", service).stdout.strip()

    def health(self, service):
        cid = self.container(service)
        if not cid:
            return None
        return run(
            ["docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", cid], check=False
        ).stdout.strip()

    def wait_healthy(self, services=SPC, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {s: self.health(s) for s in services}
            if all(v == "healthy" for v in states.values()):
                return
            time.sleep(1)
        raise AssertionError(f"not healthy after {timeout} s: {states}\n{self.logs(*services)}")

    def logs(self, *services, tail=40):
        return self.compose("logs", "--no-color", f"--tail={tail}", *services, check=False).stdout

    def exec(self, service, *command, timeout=120, check=True):
        return self.compose("exec", "-T", service, *command, timeout=timeout, check=check)

    def psql(self, sql, database="postgres"):
        return self.exec("postgres", "psql", "-U", "postgres", "-d", database, "-tAc", sql).stdout.strip()

    def kill(self, service):
        run(["docker", "kill", "-s", "KILL", self.container(service)])

    def down(self, volumes=False):
        if volumes:  # the stack is gone for good: the CA this process trusted before, again
            before = getattr(self, "_ca_before", None)
            os.environ.pop("SPC_AMQP_CA_FILE", None) if before is None else os.environ.update(SPC_AMQP_CA_FILE=before)
        return self.compose("down", "--remove-orphans", *(["-v"] if volumes else []), "-t", "20", timeout=300)

    # ---- what an outside system or a staff tool uses ------------------------------------------
    def api(self):
        return Api({s: self.ports[f"SPC_{s.upper()}_PORT"] for s in SPC}, self.tokens())

    def amqp(self, user):
        """AMQPS to the name the broker's certificate carries (SPC_PUBLIC_HOST, localhost)."""
        from spc.generate import definitions

        password = self.env[definitions.password_env(user)]
        return f"amqps://{user}:{password}@localhost:{self.ports['SPC_AMQPS_PORT']}/spc"

    def https(self, service):
        return f"https://localhost:{self.ports[f'SPC_{service.upper()}_HTTPS_PORT']}"

    def management(self, path):
        """The management API over https (TLS only), checked against the stack's CA."""
        import json

        answer = https_get(
            f"https://localhost:{self.ports['SPC_MANAGEMENT_PORT']}/api/{path}",
            ca=self.ca,
            auth=("spc-admin", self.env["SPC_BROKER_PASSWORD_SPC_ADMIN"]),
        )
        assert answer.get("status") == 200, answer
        return json.loads(answer["text"])

    def db_url(self, service):
        password = self.env[f"SPC_DB_PASSWORD_{service.upper()}"]
        return f"postgresql://spc_{service}:{password}@127.0.0.1:{self.ports['SPC_TEST_POSTGRES_PORT']}/{service}"

    def db_urls(self):
        return {s: self.db_url(s) for s in SPC}

    def spc(self, *args, timeout=120, check=True, **env):
        """The spc CLI on this machine, pointed at the stack's published ports."""
        import sys

        environ = {k: v for k, v in os.environ.items() if not k.startswith("SPC_")}
        environ.update({f"SPC_{s.upper()}_URL": f"http://127.0.0.1:{self.ports[f'SPC_{s.upper()}_PORT']}" for s in SPC}, **env)
        return run([sys.executable, "-m", "spc.cli", *args], timeout=timeout, check=check, env=environ)


class Reports(threading.Thread):
    """Citizens' reports published by `ext-vox-usagers` while an operator works on the stack,
    until stopped (bounded: at most 300 s), as a real publisher does: one connection (AMQPS, so a
    connection each time would be a TLS handshake each time, and the user may hold 10), opened
    again after a failure. `sent`: those the broker confirmed; `errors`: those it did not."""

    def __init__(self, st, sid):
        super().__init__(daemon=True)
        self.st, self.sid, self.stop, self.sent, self.errors = st, sid, threading.Event(), [], []

    def run(self):
        import json
        import pika
        from tests.support import pika_params

        deadline, connection = time.monotonic() + 300, None
        while not self.stop.is_set() and time.monotonic() < deadline:
            event = envelope(
                "usager.report_submitted", {"service_id": self.sid, "category": "other", "text": f"report {uuid.uuid4().hex[:6]}"}
            )
            try:
                if connection is None or connection.is_closed:
                    connection = pika.BlockingConnection(pika_params(self.st.amqp("ext-vox-usagers")))
                    channel = connection.channel()
                    channel.confirm_delivery()
                channel.basic_publish(
                    "spc.inbound",
                    event["event_type"],
                    json.dumps(event).encode(),
                    pika.BasicProperties(
                        content_type="application/json", delivery_mode=2, message_id=event["event_id"], type=event["event_type"]
                    ),
                    mandatory=True,
                )
                self.sent.append((event["event_id"], event["event_type"]))
            except Exception as exc:  # noqa: BLE001 (counted: each test says how many it accepts)
                self.errors.append(repr(exc))
                connection = _closed(connection)
            time.sleep(0.05)
        _closed(connection)


def _closed(connection):
    try:
        if connection is not None and connection.is_open:
            connection.close()
    except Exception:  # noqa: BLE001 (already broken: nothing more to close)
        pass
    return None
