"""A batch is acked with one `basic.ack multiple` only when that settles the batch and nothing
else (shared/messaging/consumer.py, RawQueueConsumer.ack_messages): a message another lane of the same
service holds, received before the batch on the same channel, is never acked with it. Were it,
the crash below would lose the violation."""

import json

import pika

from tests.faults import story
from tests.support import envelope, pika_params, rabbit_queue, wait_for


def _journal_backlog(amqp_uri, n):
    """`n` events on spc.events that only audit's journal lane takes, published with confirms."""
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for i in range(n):
            event = envelope("distribution.listing_published", {"service_id": f"elsewhere-{i}", "counter_ids": [f"fs-{i}"]})
            channel.basic_publish(
                "spc.events",
                event["event_type"],
                json.dumps(event).encode(),
                pika.BasicProperties(
                    content_type="application/json", delivery_mode=2, message_id=event["event_id"], type=event["event_type"]
                ),
            )
    finally:
        conn.close()


def test_a_batch_ack_never_covers_a_message_another_lane_holds(fleet, amqp_uri):
    fleet.start()
    api = fleet.api
    story.counters(amqp_uri)
    sid = story.active_service(api)
    wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"})
    wait_for(
        "audit knows the service", lambda: api.call("GET", "audit", f"/services/{sid}/findings", "auditor").status_code == 200
    )
    # the violation is received (its delivery tag the lowest unsettled) and held before its worker
    fleet.restart("audit", SPC_FAILPOINTS="consumer.received.audit.compliance=sleep:300@1")
    story.violation(amqp_uri, sid)
    wait_for(
        "the violation held, unacked, in audit",
        lambda: rabbit_queue(amqp_uri, "audit.compliance").get("messages_unacknowledged") == 1,
        timeout=30,
    )
    _journal_backlog(amqp_uri, 700)  # batches of up to 200, each received after the violation
    wait_for(
        "the journal lane done, every message settled",
        lambda: (lambda q: q.get("messages") == 0 and q.get("messages_unacknowledged") == 0)(
            rabbit_queue(amqp_uri, "audit.events")
        ),
        timeout=90,
    )
    assert rabbit_queue(amqp_uri, "audit.compliance").get("messages_unacknowledged") == 1
    fleet.kill("audit")  # the held violation was never applied: the broker must still have it
    fleet.start("audit")
    story.wait_suspended_everywhere(api, sid)
