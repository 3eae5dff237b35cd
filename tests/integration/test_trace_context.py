"""The outbox keeps the trace (shared/observe/tracing.py), on SQLite and PostgreSQL, published to the real
RabbitMQ: an event written under a span keeps that span's W3C context on its row; the relay
publishes it, later, in a `send` span that is the child of that context, and the message's
headers name the send span. With traces off, a row written under no span has none, and a row
that kept one (written by a process with traces on) passes it on as it came."""

import amqp.exceptions
import pytest
from kombu import Connection
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from spc.shared.messaging import topology
from spc.shared.observe import tracing
from spc.shared.core.envelope import Event
from spc.shared.messaging.broker import Publisher
from tests.integration.test_inbox_outbox import db, publisher, relay, rows, write  # noqa: F401 (fixtures)
from tests.support import EventTap, drain_queue


def test_an_event_written_under_a_span_is_published_in_its_trace(db, publisher, amqp_uri):  # noqa: F811
    exporter = InMemorySpanExporter()
    tracer = tracing.tracer_for("funding-test-outbox", exporter=exporter)
    tap = EventTap(amqp_uri)
    event = Event("funding.tranche_released", {"n": 1}, "funding")
    request = tracer.start_span("POST /tranches/{tranche_id}/release")
    with tracing.attached(tracing.carrier_of(request)):
        write(db, [event])
    request.end()
    (row,) = rows(db)
    context = request.get_span_context()
    assert row.traceparent.split("-")[1:3] == [f"{context.trace_id:032x}", f"{context.span_id:016x}"]
    assert row.tracestate is None

    outbox_relay = relay(db, publisher)
    outbox_relay.tracer = tracer
    assert outbox_relay.drain() == 1
    tracing.flush("funding-test-outbox")
    (send,) = [s for s in exporter.get_finished_spans() if s.name == "send spc.events"]
    assert send.parent.span_id == context.span_id and send.context.trace_id == context.trace_id
    assert send.kind.name == "PRODUCER" and send.attributes["messaging.message.id"] == str(event.event_id)
    assert send.attributes["messaging.rabbitmq.destination.routing_key"] == "funding.tranche_released"
    ((props, _),) = drain_queue(amqp_uri, tap.queue, wait=5, expect=1)
    assert props.headers["traceparent"].split("-")[1:3] == [f"{context.trace_id:032x}", f"{send.context.span_id:016x}"]


def test_a_publish_that_fails_ends_its_send_spans_in_error_and_keeps_the_rows(db, publisher):  # noqa: F811
    exporter = InMemorySpanExporter()
    tracer = tracing.tracer_for("funding-test-outbox-down", exporter=exporter)
    # an exchange the broker does not have: it closes the channel (404), the relay's publish fails
    write(db, [Event("funding.tranche_released", {"n": i}, "funding") for i in range(2)], exchange="spc.nowhere")
    outbox_relay = relay(db, publisher)
    outbox_relay.tracer = tracer
    with pytest.raises(amqp.exceptions.NotFound):
        outbox_relay.drain()
    tracing.flush("funding-test-outbox-down")
    spans = exporter.get_finished_spans()
    assert len(spans) == 2 and {s.status.status_code.name for s in spans} == {"ERROR"}
    assert [r.published_at for r in rows(db)] == [None, None]


def test_traces_off_no_context_is_made_and_a_kept_one_passes_on(db, publisher, amqp_uri):  # noqa: F811
    tap = EventTap(amqp_uri)
    write(db, [Event("funding.tranche_released", {"n": 1}, "funding")])
    assert rows(db)[0].traceparent is None
    kept = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with db.engine.begin() as conn:
        conn.execute(db.uow().outbox_table.update().values(traceparent=kept, tracestate="spc=1"))
    assert relay(db, publisher).drain() == 1  # no tracer: traces off in this process
    ((props, _),) = drain_queue(amqp_uri, tap.queue, wait=5, expect=1)
    assert props.headers == {"traceparent": kept, "tracestate": "spc=1"}


def test_the_embedded_broker_carries_the_headers_too():
    with Connection("memory://trace-context") as conn:
        topology.declare_all(conn.default_channel)
        queue = conn.SimpleQueue("funding.events.tap")
        publisher = Publisher("memory://trace-context")
        try:
            publisher.publish_many(
                [
                    {
                        "body": b"{}",
                        "exchange": "",
                        "routing_key": "funding.events.tap",
                        "message_id": "m-1",
                        "type": "t",
                        "headers": {"traceparent": "00-x"},
                    }
                ]
            )
            message = queue.get(timeout=5)
            assert message.headers["traceparent"] == "00-x"
        finally:
            publisher.close()
            queue.close()
