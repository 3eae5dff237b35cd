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

from spc.client import free_ports
from tests.support import Api, envelope, publish_inbound, tokens_of

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SPC = ("registry", "funding", "distribution", "audit")
PORT_VARIABLES = ("SPC_AMQP_PORT", "SPC_MANAGEMENT_PORT", "SPC_REGISTRY_PORT", "SPC_FUNDING_PORT",
                  "SPC_DISTRIBUTION_PORT", "SPC_AUDIT_PORT", "SPC_PROMETHEUS_PORT", "SPC_GRAFANA_PORT",
                  "SPC_TEST_POSTGRES_PORT")


def run(command, timeout=300, check=True, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} exited {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def standin_images():
    """{variable: image} of scripts/images --env (the images are built by scripts/prepare)."""
    out = run([str(ROOT / "scripts/images"), "--env"]).stdout
    return dict(line.split("=", 1) for line in out.split())


def build_image(tag, context=ROOT, dockerfile="deploy/Dockerfile"):
    """SPC's image from `context` on the stand-in python base; the seconds it took."""
    start = time.monotonic()
    run(["docker", "build", "-q", "--build-arg", f"PYTHON_IMAGE={standin_images()['SPC_PYTHON_IMAGE']}",
         "-f", str(Path(context) / dockerfile), "-t", tag, str(context)],
        env=dict(os.environ, DOCKER_BUILDKIT="0"), timeout=900)
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
        if rabbitmq_image:
            self.env["SPC_RABBITMQ_IMAGE"] = rabbitmq_image
        self.write_env()
        self.files = [self.dir / "compose.yaml"]
        for name in ("compose.test.yaml", *overrides):  # compose files, and the files they mount
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
            done = subprocess.run(self.command(*args), cwd=self.dir, timeout=timeout, stderr=subprocess.PIPE,
                                  stdout=handle if out else subprocess.PIPE, stdin=None if out else handle)
        assert done.returncode == 0, done.stderr.decode()[-2000:]

    def up(self, *services, timeout=300):
        """`up -d` of `services` (default: everything but Grafana, which has no stand-in)."""
        return self.compose("up", "-d", "--no-build", *(services or (*SPC, "prometheus")), timeout=timeout)

    def container(self, service):
        return self.compose("ps", "-q", service).stdout.strip()

    def health(self, service):
        cid = self.container(service)
        if not cid:
            return None
        return run(["docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", cid],
                   check=False).stdout.strip()

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
        return self.compose("down", "--remove-orphans", *(["-v"] if volumes else []), "-t", "20", timeout=300)

    # ---- what an outside system or a staff tool uses ------------------------------------------
    def api(self):
        return Api({s: self.ports[f"SPC_{s.upper()}_PORT"] for s in SPC}, self.tokens())

    def amqp(self, user):
        from spc import definitions
        password = self.env[definitions.password_env(user)]
        return f"amqp://{user}:{password}@127.0.0.1:{self.ports['SPC_AMQP_PORT']}/spc"

    def management(self, path):
        import requests
        password = self.env["SPC_BROKER_PASSWORD_SPC_ADMIN"]
        resp = requests.get(f"http://127.0.0.1:{self.ports['SPC_MANAGEMENT_PORT']}/api/{path}",
                            auth=("spc-admin", password), timeout=15)
        resp.raise_for_status()
        return resp.json()

    def db_url(self, service):
        password = self.env[f"SPC_DB_PASSWORD_{service.upper()}"]
        return f"postgresql://spc_{service}:{password}@127.0.0.1:{self.ports['SPC_TEST_POSTGRES_PORT']}/{service}"

    def db_urls(self):
        return {s: self.db_url(s) for s in SPC}

    def spc(self, *args, timeout=120, check=True, **env):
        """The spc CLI on this machine, pointed at the stack's published ports."""
        import sys
        environ = {k: v for k, v in os.environ.items() if not k.startswith("SPC_")}
        environ.update({f"SPC_{s.upper()}_URL": f"http://127.0.0.1:{self.ports[f'SPC_{s.upper()}_PORT']}"
                        for s in SPC}, **env)
        return run([sys.executable, "-m", "spc.cli", *args], timeout=timeout, check=check, env=environ)


class Reports(threading.Thread):
    """Citizens' reports published by `ext-vox-usagers` while an operator works on the stack,
    until stopped (bounded: at most 300 s). `sent`: those the broker confirmed; `errors`: those it did not."""

    def __init__(self, st, sid):
        super().__init__(daemon=True)
        self.st, self.sid, self.stop, self.sent, self.errors = st, sid, threading.Event(), [], []

    def run(self):
        deadline = time.monotonic() + 300
        while not self.stop.is_set() and time.monotonic() < deadline:
            event = envelope("usager.report_submitted", {"service_id": self.sid, "category": "other",
                                                         "text": f"report {uuid.uuid4().hex[:6]}"})
            try:
                publish_inbound(self.st.amqp("ext-vox-usagers"), event, event["event_type"],
                                message_id=event["event_id"])
                self.sent.append((event["event_id"], event["event_type"]))
            except Exception as exc:  # noqa: BLE001 (counted: each test says how many it accepts)
                self.errors.append(repr(exc))
            time.sleep(0.05)
