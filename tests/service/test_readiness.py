"""`/health/ready` is what compose, Kubernetes and our own fleet wait on before sending anything:
it must not answer 200 before the service's queues are declared and bound (an event published
then would come back unroutable, or be lost by a publisher that does not ask)."""

import time

import eventlet
import pika
import requests

from spc.runtime import config
from tests.support import pika_params, reserve_ports


def _publish_mandatory(amqp_uri, routing_key):
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish("spc.inbound", routing_key, b"{}", mandatory=True)  # raises if unroutable
    finally:
        conn.close()


def test_a_service_is_ready_only_once_its_queues_are_bound(amqp_uri, cluster_factory):
    ports = reserve_ports(list(config.SERVICE_NAMES))
    starting = eventlet.spawn(cluster_factory, ["distribution"], ports=ports)
    seen, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            resp = requests.get(f"http://127.0.0.1:{ports['distribution']}/health/ready", timeout=5)
        except requests.ConnectionError:
            eventlet.sleep(0.005)
            continue
        seen.append(resp.json())
        if resp.status_code == 200:
            _publish_mandatory(amqp_uri, "counter.upserted")  # at the first 200, already routable
            break
        eventlet.sleep(0.005)
    starting.wait()
    assert seen[-1] == {
        "status": "ready",
        "checks": {"database": True, "broker": True, "consumers": True},
        "broker_blocked": None,
        "relay_error": None,
    }
    assert all(s["checks"]["consumers"] is False for s in seen[:-1]), seen
