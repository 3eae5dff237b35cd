"""A batched lane's message is taken in the queue consumer's greenthread (shared/messaging/consumer.py,
`EventConsumer.take_inline`): parsed and queued for the batcher when that is all it needs;
anything else (a lane of one, a message to dead-letter, an armed failpoint) is left, untouched,
to `handle_message`."""

import json
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from eventlet.queue import LightQueue

from spc.shared.observe import failpoints
from spc.shared.messaging import topology
from spc.shared.messaging.consumer import BULK, EventConsumer


class Counted:
    def __init__(self):
        self.counts = {}

    def labels(self, queue):
        return SimpleNamespace(inc=lambda: self.counts.__setitem__(queue, self.counts.get(queue, 0) + 1))


def consumer(batch=200):
    made = EventConsumer(topology.AUDIT_JOURNAL, None, BULK, batch)
    made._pending = LightQueue()
    made.hub = SimpleNamespace(metrics=SimpleNamespace(redeliveries=Counted()))
    return made


def message(body=None, redelivered=False, event_type="distribution.listing_published"):
    if body is None:
        body = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "event_type": event_type,
                "schema_version": 1,
                "occurred_at": datetime.now(timezone.utc).isoformat(),
                "producer": "distribution",
                "payload": {"service_id": "s-1", "counter_ids": ["fs-1"]},
            }
        ).encode()
    return SimpleNamespace(
        body=body, delivery_info={"exchange": "spc.events", "routing_key": event_type, "redelivered": redelivered}
    )


def queued(made):
    return [made._pending.get_nowait() for _ in range(made._pending.qsize())]


def test_a_good_message_is_parsed_and_queued_for_the_batcher():
    made, sent = consumer(), message(redelivered=True)
    assert made.take_inline(sent) is True
    [(event, kept)] = queued(made)
    assert kept is sent and event.event_type == "distribution.listing_published"
    assert event.payload["counter_ids"] == ["fs-1"]
    assert made.hub.metrics.redeliveries.counts == {topology.AUDIT_JOURNAL.name: 1}


@pytest.mark.parametrize("body", [b"{not json", json.dumps({"event_type": "x.y"}).encode()])
def test_a_message_to_dead_letter_is_left_to_handle_message(body):
    made = consumer()
    assert made.take_inline(message(body, redelivered=True)) is False
    assert queued(made) == [] and made.hub.metrics.redeliveries.counts == {}  # counted there, once


def test_a_lane_of_one_is_left_to_handle_message():
    made = consumer(batch=1)
    assert made.take_inline(message()) is False and queued(made) == []


def test_an_armed_failpoint_is_left_to_handle_message():
    made = consumer()
    failpoints.configure(f"consumer.received.{topology.AUDIT_JOURNAL.name}=raise@1")
    try:
        assert made.take_inline(message()) is False and queued(made) == []
    finally:
        failpoints.configure("")
