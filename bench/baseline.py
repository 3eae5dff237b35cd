"""The baseline every figure is divided by: raw pika on the same broker, in the same run. N
messages of the same size published to one quorum queue with publisher confirms (up to 1,000
in flight, pika's asynchronous connection), then consumed with manual acks (prefetch 100).
Messages per second for the whole round trip."""

import time
import uuid

import pika

PROPS = pika.BasicProperties(delivery_mode=2, content_type="application/json")


def raw_rate(amqp_uri, n, size):
    queue = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    body = b"x" * size
    conn = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    conn.channel().queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    started = time.monotonic()
    publish_confirmed(amqp_uri, "", queue, [body] * n)
    _consume(conn.channel(), queue, n)
    elapsed = time.monotonic() - started
    conn.channel().queue_delete(queue)
    conn.close()
    return n / elapsed


def publish_confirmed(amqp_uri, exchange, routing_key, bodies, in_flight=1000):
    """Publish `bodies` with confirms, many in flight; returns when all are confirmed."""
    state = {"sent": 0, "floor": 1, "outstanding": set(), "error": None}

    def on_open(connection):
        connection.channel(on_open_callback=on_channel)

    def on_channel(channel):
        state["channel"] = channel
        channel.confirm_delivery(on_confirm)
        pump()

    def pump():
        channel = state["channel"]
        while state["sent"] < len(bodies) and len(state["outstanding"]) < in_flight:
            channel.basic_publish(
                exchange,
                routing_key if isinstance(routing_key, str) else routing_key[state["sent"]],
                bodies[state["sent"]],
                PROPS,
            )
            state["sent"] += 1
            state["outstanding"].add(state["sent"])
        if state["sent"] == len(bodies) and not state["outstanding"]:
            connection.close()

    def on_confirm(frame):
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            state["error"] = f"nack {method.delivery_tag}"
        tags = range(state["floor"], method.delivery_tag + 1) if method.multiple else [method.delivery_tag]
        for tag in tags:
            state["outstanding"].discard(tag)
        if method.multiple:
            state["floor"] = method.delivery_tag + 1
        pump()

    connection = pika.SelectConnection(
        pika.URLParameters(amqp_uri), on_open_callback=on_open, on_close_callback=lambda c, reason: c.ioloop.stop()
    )
    connection.ioloop.start()
    if state["error"] or state["outstanding"] or state["sent"] < len(bodies):
        raise RuntimeError(f"publishing failed: {state['error'] or 'connection closed early'}")


def _consume(channel, queue, n):
    got = 0

    def on_message(ch, method, props, body):
        nonlocal got
        got += 1
        if got % 100 == 0 or got == n:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if got == n:
            ch.stop_consuming()

    channel.basic_qos(prefetch_count=100)
    channel.basic_consume(queue, on_message)
    channel.start_consuming()
