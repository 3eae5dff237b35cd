"""A broker upgraded from before the lanes: `audit.inbound` still exists, bound to the inbound
violations and reports, and may hold some. Starting SPC unbinds it and drains it."""

import json
from urllib.parse import quote, urlparse

import pika
import requests

from spc.shared.messaging import topology
from tests.servers import RABBIT_API
from tests.support import drain_queue, envelope, pika_params, rabbit_queue, wait_for


def _bindings(amqp_uri, queue):
    vhost = quote(urlparse(amqp_uri).path.lstrip("/"), safe="")
    resp = requests.get(f"{RABBIT_API}/queues/{vhost}/{queue}/bindings", timeout=10)
    resp.raise_for_status()
    return {(b["source"], b["routing_key"]) for b in resp.json() if b["source"]}


def test_the_old_shared_inbound_queue_is_unbound_and_what_it_held_is_applied(amqp_uri, cluster_factory):
    old = topology.RETIRED_AUDIT_INBOUND
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    channel = conn.channel()
    channel.exchange_declare("spc.inbound", "topic", durable=True, arguments=dict(topology.INBOUND.arguments))
    channel.queue_declare(old.name, durable=True, arguments=dict(old.queue_arguments))
    for key in ("compliance.violation_reported", "usager.report_submitted"):
        channel.queue_bind(old.name, "spc.inbound", key)
    ghost = envelope(
        "compliance.violation_reported",
        {
            "service_id": "never-registered",
            "principle": "equality",
            "severity": "major",
            "summary": "Refused a family",
            "reported_by": "inspection",
        },
    )
    channel.basic_publish(
        "spc.inbound",
        ghost["event_type"],
        json.dumps(ghost).encode(),
        pika.BasicProperties(delivery_mode=2, message_id=ghost["event_id"]),
    )
    conn.close()

    cluster_factory()
    assert _bindings(amqp_uri, old.name) == set()
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=30)  # applied: parked, then past the window
    assert [p.message_id for p, _ in dead] == [ghost["event_id"]]
    assert dead[0][0].headers["x-spc-rejection"].startswith("unknown_service")
    wait_for("the old queue drained", lambda: rabbit_queue(amqp_uri, old.name).get("messages") == 0)
