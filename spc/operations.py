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


def pika_parameters(amqp_uri):
    """AMQP_URI as pika takes it: one URI, or a failover list separated by `;` (as kombu takes
    it: the nodes of a cluster), tried in order."""
    return [pika.URLParameters(uri.strip()) for uri in amqp_uri.split(";") if uri.strip()]


def _where(params):
    return ", ".join(f"{p.host}:{p.port}" for p in params)


def publish(amqp_uri, event, raw, exchange="spc.inbound"):
    """Publish one event with confirms, persistent, message_id and type set; raise if refused."""
    params = pika_parameters(amqp_uri)
    try:
        conn = pika.BlockingConnection(params)
    except pika.exceptions.ProbableAuthenticationError:
        raise PublishError(f"the broker at {_where(params)} refused the credentials") from None
    except pika.exceptions.AMQPConnectionError as exc:
        raise PublishError(f"cannot connect to the broker at {_where(params)} ({exc!r})") from None
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, event.event_type, raw, pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=str(event.event_id),
            type=event.event_type), mandatory=True)
    except pika.exceptions.UnroutableError:
        raise PublishError("the broker could not route the event (is SPC's topology declared?)") from None
    except pika.exceptions.NackError:
        raise PublishError("the broker refused the event (negative confirm)") from None
    except pika.exceptions.ChannelClosedByBroker as exc:  # e.g. 403 ACCESS_REFUSED, 404 NOT_FOUND
        raise PublishError(f"the broker refused the event: {exc.reply_code} {exc.reply_text}") from None
    except pika.exceptions.AMQPError as exc:
        raise PublishError(f"broker error: {exc!r}") from None
    finally:
        if conn.is_open:
            conn.close()


def dlq_messages(amqp_uri, queue, limit=100):
    """Peek at dead letters: got and then returned to the queue (nothing is lost)."""
    conn = pika.BlockingConnection(pika_parameters(amqp_uri))
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


def _origin_queue(props):
    """The queue that dead-lettered the message: ours (x-spc-queue) or the broker's (x-death)."""
    headers = props.headers or {}
    if headers.get("x-spc-queue"):
        return headers["x-spc-queue"]
    deaths = headers.get("x-death") or []
    return deaths[0].get("queue") if deaths else None


def dlq_replay(amqp_uri, queue, limit=1000, message_id=None):
    """Put dead letters back on the queue that rejected them (through the default exchange, so
    no other consumer sees them twice), confirmed, then ack them. `message_id` picks one. A
    message that fails again comes back here with its new reason."""
    conn = pika.BlockingConnection(pika_parameters(amqp_uri))
    replayed, skipped = 0, []
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            target = _origin_queue(props)
            if (message_id is not None and props.message_id != message_id) or target is None:
                skipped.append(method.delivery_tag)
                continue
            headers = {k: v for k, v in (props.headers or {}).items()
                       if not k.startswith("x-spc-") and k != "x-death"}
            headers["x-spc-replayed-from"] = queue
            channel.basic_publish("", target, body, pika.BasicProperties(
                content_type=props.content_type, delivery_mode=2, message_id=props.message_id,
                type=props.type, headers=headers), mandatory=True)
            channel.basic_ack(method.delivery_tag)
            replayed += 1
        for tag in skipped:
            channel.basic_nack(tag, requeue=True)
    finally:
        if conn.is_open:
            conn.close()
    return replayed
