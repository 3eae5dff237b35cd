"""Operator commands that talk to RabbitMQ directly: the reference publisher and the DLQ."""
import json
import uuid

import pika

from spc.shared import envelope
from spc.shared.errors import Rejection

DEAD_LETTER_QUEUES = ("spc.inbound.dead", "spc.events.dead")


class PublishError(Exception):
    pass


def load_event_file(path):
    """Read and validate an event file (envelope + payload) before anything is sent."""
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise PublishError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(doc, dict):
        doc.setdefault("event_id", str(uuid.uuid4()))
        raw = json.dumps(doc).encode()
    try:
        event = envelope.parse(raw)
    except Rejection as rejection:
        raise PublishError(f"{path}: {rejection.header}") from None
    return event, raw


def publish(amqp_uri, event, raw, exchange="spc.inbound"):
    """Publish one event with confirms, persistent, message_id and type set; raise if refused."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, event.event_type, raw, pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=str(event.event_id),
            type=event.event_type), mandatory=True)
    except pika.exceptions.UnroutableError:
        raise PublishError("the broker could not route the event (is SPC's topology declared?)") from None
    except pika.exceptions.NackError:
        raise PublishError("the broker refused the event") from None
    except pika.exceptions.AMQPError as exc:
        raise PublishError(f"broker error: {exc!r}") from None
    finally:
        if conn.is_open:
            conn.close()


def dlq_messages(amqp_uri, queue, limit=100):
    """Peek at dead letters: got and then returned to the queue (nothing is lost)."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    out = []
    try:
        channel = conn.channel()
        tags = []
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            out.append({"message_id": props.message_id, "type": props.type,
                        "reason": (props.headers or {}).get("x-spc-rejection"),
                        "queue": (props.headers or {}).get("x-spc-queue"),
                        "routing_key": (props.headers or {}).get("x-spc-original-routing-key"),
                        "size": len(body), "body": body[:300].decode("utf-8", "replace")})
        for tag in tags:
            channel.basic_nack(tag, requeue=True)
    finally:
        conn.close()
    return out


def dlq_replay(amqp_uri, queue, limit=1000):
    """Re-publish dead letters to their original exchange and routing key (confirmed), then ack
    them. A message that fails again comes back to the dead-letter queue with its new reason."""
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    replayed = 0
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            headers = {k: v for k, v in (props.headers or {}).items() if not k.startswith("x-spc-")}
            original = props.headers or {}
            channel.basic_publish(original.get("x-spc-original-exchange", "spc.inbound"),
                                  original.get("x-spc-original-routing-key", props.type or ""), body,
                                  pika.BasicProperties(content_type=props.content_type, delivery_mode=2,
                                                       message_id=props.message_id, type=props.type,
                                                       headers=headers))
            channel.basic_ack(method.delivery_tag)
            replayed += 1
    finally:
        conn.close()
    return replayed
