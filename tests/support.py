"""Helpers shared by the service, e2e and fault layers: HTTP calls, waiting, AMQP taps."""

import json
import time
import uuid

import pika
import requests

from spc.shared.core import events

from spc.cli.client import StaffClient, free_port, free_ports, reserve_ports  # noqa: F401  (free_port(s): for the fixtures)

TOKENS = {
    "registrar": "t-registrar",
    "funding_officer": "t-funding",
    "auditor": "t-auditor",
    "viewer": "t-viewer",
    "distribution_officer": "t-distribution",
    # scoped (contract §4), their label "tests" naming a counter and a service that do not exist
    "counter_agent": "t-agent-elsewhere",
    "service": "t-service-elsewhere",
}
# a second funding officer: two people for money (POST /approvals by one, approved by the other)
SECOND_FUNDING_OFFICER = "t-funding-second"
TOKENS_ENV = ",".join(
    [*(f"{role}/tests:{token}" for role, token in TOKENS.items()), f"funding_officer/second:{SECOND_FUNDING_OFFICER}"]
)

PACT = {
    "name": "Crèche parentale Les Lutins",
    "legal_form": "association",
    "rna": "W353012345",
    "mission": "Parent-run crèche",
    "domains": ["early_childhood"],
    "territories": {"departments": ["35"]},
    "contact_email": "bureau@lutins.example.org",
}


class Api(StaffClient):
    def __init__(self, ports, tokens=None):
        super().__init__(ports, TOKENS if tokens is None else tokens)

    def ok(self, method, service, path, role="viewer", body=None, headers=None):
        resp = self.call(method, service, path, role, body, headers)
        assert resp.status_code in (200, 201), f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json()


def tokens_of(path):
    """{role: token} of a tokens file (`role[/label]:token` a line), the first of each role."""
    tokens = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            label, token = line.split(":", 1)
            tokens.setdefault(label.split("/")[0], token)
    return tokens


def wait_for(what, check, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (requests.RequestException, AssertionError, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def await_lock_waiters(engine, count, what):
    """Wait until `count` sessions of this PostgreSQL database wait on a lock: the proof that
    racing replicas met, where a sleep would only hope so."""
    from sqlalchemy import text

    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")

    def waiting():
        with engine.connect() as conn:
            found = conn.execute(query).scalar()
        assert found >= count, f"{found} waiting"
        return True

    wait_for(what, waiting, timeout=30)


def envelope(event_type, payload, version=1, event_id=None, producer=None):
    """An envelope as its producer would publish it: by default from the service that owns an
    outbound type (consumers refuse any other), from "test-suite" for an inbound one."""
    if producer is None:
        producer = events.producer_of(event_type) or "test-suite"
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": version,
        "occurred_at": "2026-11-25T10:00:00+01:00",
        "producer": producer,
        "payload": payload,
    }


def pika_params(amqp_uri):
    """One URI or a failover list (`;`), as SPC takes AMQP_URI."""
    from spc.cli.operations import pika_parameters

    return pika_parameters(amqp_uri)


def broker_refusal(uri, action):
    """Run `action(channel)` (pika, confirms on) as the user of `uri`: None if the broker allowed
    it, else its refusal code (403 ACCESS_REFUSED...)."""
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        action(channel)
        return None
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code
    finally:
        if conn.is_open:
            conn.close()


def publish_inbound(amqp_uri, body, routing_key, message_id=None, exchange="spc.inbound", headers=None):
    """Publish as an external system would: pika, confirms, persistent, message_id, type (and
    `headers`: a W3C `traceparent`...)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            routing_key,
            raw,
            pika.BasicProperties(
                content_type="application/json", delivery_mode=2, message_id=message_id, type=routing_key, headers=headers
            ),
            mandatory=True,
        )
    finally:
        conn.close()


def drain_queue(amqp_uri, queue, wait=10.0, expect=1):
    """Get (without consuming for good) up to `expect` messages from a queue, waiting a while."""
    got, deadline = [], time.monotonic() + wait
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        while len(got) < expect and time.monotonic() < deadline:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                time.sleep(0.1)
                continue
            got.append((props, body))
    finally:
        conn.close()
    return got


class EventTap:
    """A queue of the test's own, bound to spc.events: what SPC published, as an outsider sees it."""

    def __init__(self, amqp_uri, keys=("#",)):
        self.amqp_uri = amqp_uri
        self.queue = f"test.tap.{uuid.uuid4().hex[:8]}"
        conn = pika.BlockingConnection(pika_params(amqp_uri))
        channel = conn.channel()
        channel.exchange_declare("spc.events", "topic", durable=True)
        channel.queue_declare(self.queue, durable=True, auto_delete=False)
        for key in keys:
            channel.queue_bind(self.queue, "spc.events", key)
        conn.close()
        self.events = []

    def collect(self, wait=0.5):
        for _, body in drain_queue(self.amqp_uri, self.queue, wait=wait, expect=10_000):
            self.events.append(json.loads(body))
        return self.events

    def drain(self, quiet=0.5):
        """Everything published so far: gets until the queue stays empty for `quiet` seconds."""
        conn = pika.BlockingConnection(pika_params(self.amqp_uri))
        try:
            channel, empty_since = conn.channel(), None
            while True:
                method, _, body = channel.basic_get(self.queue, auto_ack=True)
                if method is not None:
                    self.events.append(json.loads(body))
                    empty_since = None
                    continue
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= quiet:
                    return self.events
                time.sleep(0.05)
        finally:
            conn.close()

    def of_type(self, event_type):
        return [e for e in self.events if e["event_type"] == event_type]


class Fleet:
    """SPC services as separate `spc run` processes (one per service), as in deployment: each
    can be stopped, killed with SIGKILL, or restarted with other settings (failpoints)."""

    def __init__(self, amqp_uri, db_urls, log_dir, env=None):
        import os

        self.ports = reserve_ports(list(db_urls))  # held while the fleet lives: no other fleet gets them
        self.log_dir = log_dir
        self.env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "SPC_ADMIN_TOKENS": TOKENS_ENV,
            "SPC_BIND": "127.0.0.1",
            "SPC_DATA_DIR": str(log_dir),
            **(env or {}),
        }
        self.env.pop("SPC_FAILPOINTS", None)
        for name, url in db_urls.items():
            self.env[f"{name.upper()}_PORT"] = str(self.ports[name])
            self.env[f"{name.upper()}_DATABASE_URL"] = url
        self.db_urls = db_urls
        self.procs, self.api, self.starts = {}, Api(self.ports), {}

    def start(self, *names, wait=True, **extra_env):
        import subprocess
        import sys

        for name in names or tuple(self.db_urls):
            self.starts[name] = self.starts.get(name, 0) + 1
            log = open(self.log_dir / f"{name}.{self.starts[name]}.log", "w")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "spc.cli", "run", name],
                env=dict(self.env, **extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            for name in names or tuple(self.db_urls):
                self.wait_ready(name)
        return self

    def wait_ready(self, name, timeout=60):
        wait_for(f"{name} ready", lambda: self.api.call("GET", name, "/health/ready", None).status_code == 200, timeout=timeout)

    def stop(self, name, timeout=20):
        import signal
        import subprocess

        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self, name):
        """SIGKILL: no cleanup, no ack, no goodbye to the broker."""
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait()

    def wait_exit(self, name, timeout=60):
        """Wait for a process to die on its own (a failpoint `exit`); returns its exit code."""
        code = self.procs[name].wait(timeout=timeout)
        del self.procs[name]
        return code

    def restart(self, name, **extra_env):
        if name in self.procs:
            self.stop(name)
        return self.start(name, **extra_env)

    def close(self, timeout=20):
        """Stop every process at once (SIGTERM to all, then wait; SIGKILL past `timeout`): a
        graceful stop takes a few seconds per service, in parallel rather than in turn."""
        import signal
        import subprocess

        procs, self.procs = self.procs, {}
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.log_dir.glob("*.log")))


def rabbit_queue(amqp_uri, queue):
    """The management API's view of a queue (messages ready, unacknowledged...)."""
    from urllib.parse import quote, urlparse

    vhost = urlparse(amqp_uri).path.lstrip("/")
    from tests.servers import RABBIT_API

    resp = requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}", timeout=10)
    resp.raise_for_status()
    return resp.json()


def metric(api, service, name, **labels):
    """The sum of a service's /metrics samples of that name and labels (0.0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = api.call("GET", service, "/metrics", None).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def stop_processes(procs, log_dir, tail=3000):
    """SIGTERM each `spc` process (name -> Popen), wait (SIGKILL after 20 s), print each log's end."""
    import signal
    import subprocess
    import sys

    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for name, proc in procs.items():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        sys.stdout.write(f"--- {name}\n" + (log_dir / f"{name}.log").read_text()[-tail:])
