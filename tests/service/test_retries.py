"""Bounded retries: a message whose handler keeps failing (not a rejection, not the database
away) is requeued with backoff, then dead-lettered `retries_exhausted`; the queue moves on."""

import pytest

from spc.shared.messaging import consumer
from spc.shared.observe import failpoints
from tests.support import drain_queue, envelope, metric, publish_inbound, wait_for


@pytest.fixture
def failing_handlers(monkeypatch):
    monkeypatch.setattr(consumer, "backoff_seconds", lambda attempt: 0.05)
    failpoints.configure(f"handler.before_commit=raise@{consumer.MAX_ATTEMPTS}")
    yield
    failpoints.configure("")


def test_a_handler_that_keeps_failing_is_retried_then_dead_lettered(failing_handlers, spc, amqp_uri):
    event = envelope(
        "counter.upserted", {"counter_id": "fs-x", "name": "X", "commune_insee": "35238", "department": "35", "address": ""}
    )
    publish_inbound(amqp_uri, event, "counter.upserted", message_id=event["event_id"])
    ((props, body),) = drain_queue(amqp_uri, "spc.inbound.dead", wait=30, expect=1)
    assert props.headers["x-spc-rejection"].startswith("retries_exhausted: RuntimeError: failpoint")
    assert props.message_id == event["event_id"] and props.headers["x-spc-queue"] == "distribution.inbound"
    assert (
        metric(spc, "distribution", "spc_distribution_retries_total", queue="distribution.inbound") == consumer.MAX_ATTEMPTS - 1
    )
    assert metric(spc, "distribution", "spc_distribution_dead_lettered_total", reason="retries_exhausted") == 1
    # nothing half-applied, and the queue goes on with the next message
    assert spc.ok("GET", "distribution", "/counters")["total"] == 0
    ok = envelope(
        "counter.upserted", {"counter_id": "fs-y", "name": "Y", "commune_insee": "35238", "department": "35", "address": ""}
    )
    publish_inbound(amqp_uri, ok, "counter.upserted", message_id=ok["event_id"])
    wait_for("the next message applied", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
