"""Helpers shared by the service, e2e and fault layers: HTTP calls, waiting, AMQP taps."""
import json
import socket
import time
import uuid

import pika
import requests

TOKENS = {"registrar": "t-registrar", "funding_officer": "t-funding", "auditor": "t-auditor",
          "viewer": "t-viewer", "distribution_officer": "t-distribution"}
TOKENS_ENV = ",".join(f"{role}/tests:{token}" for role, token in TOKENS.items())

PACT = {"name": "Crèche parentale Les Lutins", "legal_form": "association", "rna": "W353012345",
        "mission": "Parent-run crèche", "domains": ["early_childhood"],
        "territories": {"departments": ["35"]}, "contact_email": "bureau@lutins.example.org"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, ports):
        self.ports = ports

    def call(self, method, service, path, role="viewer", body=None):
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        return requests.request(method, f"http://127.0.0.1:{self.ports[service]}{path}", json=body,
                                headers=headers, timeout=15)

    def ok(self, method, service, path, role="viewer", body=None):
        resp = self.call(method, service, path, role, body)
        assert resp.status_code in (200, 201), f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json()


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


def envelope(event_type, payload, version=1, event_id=None, producer="test-suite"):
    return {"event_id": event_id or str(uuid.uuid4()), "event_type": event_type,
            "schema_version": version, "occurred_at": "2026-11-25T10:00:00+01:00",
            "producer": producer, "payload": payload}


def pika_params(amqp_uri):
    return pika.URLParameters(amqp_uri)


def publish_inbound(amqp_uri, body, routing_key, message_id=None, exchange="spc.inbound"):
    """Publish as an external system would: pika, confirms, persistent, message_id, type."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, raw, pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=message_id,
            type=routing_key), mandatory=True)
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
        channel.queue_declare(self.queue, durable=False, auto_delete=False)
        for key in keys:
            channel.queue_bind(self.queue, "spc.events", key)
        conn.close()
        self.events = []

    def collect(self, wait=0.5):
        for _, body in drain_queue(self.amqp_uri, self.queue, wait=wait, expect=10_000):
            self.events.append(json.loads(body))
        return self.events

    def of_type(self, event_type):
        return [e for e in self.events if e["event_type"] == event_type]
