"""The event consumer entrypoint: strict parsing, manual ack after commit, bounded retries with
backoff, and dead-lettering with a reason. Replaces nameko's defaults where they lose data:

- nameko decodes the body before our code runs; invalid JSON or an unexpected content type raise
  in the consumer thread and kill the service. We take the raw message and parse it ourselves.
- a handler that raises is acked and dropped (requeue_on_error=False), or requeued in a hot loop
  (True). We dead-letter permanent failures with `x-spc-rejection`, and requeue transient ones
  after a growing pause, up to MAX_ATTEMPTS, then dead-letter them too.
- a handler that finds its database unreachable does not burn its attempts: `apply_once` holds the
  message (unacked, so a crash still returns it to the queue) and retries the transaction with
  backoff until the database answers again, for up to HOLD_SECONDS.
"""
import logging
import os
import time
from functools import partial

import eventlet
from sqlalchemy.exc import DBAPIError, IntegrityError
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint, SharedExtension
from nameko.messaging import QueueConsumer

from . import envelope, failpoints, topology
from .errors import Rejection
from .messaging import Publisher
from .metrics import MetricsHub
from .persistence import check_database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
HOLD_SECONDS = float(os.environ.get("SPC_DB_HOLD_SECONDS", 600))


def backoff_seconds(attempt):
    return min(0.1 * 2 ** attempt, 15.0)


class RawQueueConsumer(QueueConsumer):
    """nameko's QueueConsumer, but messages reach the provider undecoded."""

    def get_consumers(self, consumer_cls, channel):
        topology.declare_all(channel)
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], accept=None,
                                    on_message=partial(self.handle_message, provider, None))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()


class DeadLetters(SharedExtension):
    """Publishes rejected messages, untouched, to `spc.dead` with the reason in a header."""

    def setup(self):
        self.publisher = Publisher(self.container.config["AMQP_URI"])

    def stop(self):
        self.publisher.close()

    def send(self, message, queue, rejection):
        props = message.properties or {}
        headers = dict(message.headers or {})
        headers.update({
            "x-spc-rejection": rejection.header,
            "x-spc-queue": queue.name,
            "x-spc-original-exchange": (message.delivery_info or {}).get("exchange", ""),
            "x-spc-original-routing-key": (message.delivery_info or {}).get("routing_key", ""),
            "x-spc-rejected-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        self.publisher.publish_raw(
            message.body, topology.DEAD, queue.dead_letter_key, headers=headers,
            message_id=props.get("message_id"), type_=props.get("type"),
            content_type=message.content_type or "application/octet-stream")


class EventConsumer(Entrypoint):
    """`@consume_events(queue)`: the decorated method receives one validated `Event`."""

    queue_consumer = RawQueueConsumer()
    dead_letters = DeadLetters()
    hub = MetricsHub()

    def __init__(self, queue, accepted_types=None, **kwargs):
        kwargs.setdefault("expected_exceptions", (Rejection,))
        self.queue = queue
        self.accepted_types = accepted_types
        super().__init__(**kwargs)

    def setup(self):
        self.queue_consumer.register_provider(self)

    def stop(self):
        self.queue_consumer.unregister_provider(self)

    def handle_message(self, body, message):
        if (message.delivery_info or {}).get("redelivered"):
            self.hub.metrics.redeliveries.labels(self.queue.name).inc()
        try:
            info = message.delivery_info or {}
            # replayed dead letters come through the default exchange, keyed by queue name
            routing_key = info.get("routing_key") if info.get("exchange") else None
            event = envelope.parse(message.body, routing_key, self.accepted_types)
        except Rejection as rejection:
            self.reject(message, rejection)
            return
        if failpoints.armed("consumer.received", self.queue.name):  # off in production
            eventlet.spawn_n(self._dispatch_after_failpoint, event, message)
            return
        self._dispatch(event, message)

    def _dispatch_after_failpoint(self, event, message):
        failpoints.fire("consumer.received", self.queue.name)
        self._dispatch(event, message)

    def _dispatch(self, event, message):
        try:
            self.container.spawn_worker(self, (event,), {}, context_data={},
                                        handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self._settle(self.queue_consumer.requeue_message, message)

    def _settle(self, action, message):
        """Ack or requeue. If the connection died under us (a lost heartbeat, a broker restart)
        the broker already took the message back and will deliver it again: the inbox absorbs
        that, so a failed ack is logged, never allowed to kill the service."""
        try:
            action(message)
        except Exception as exc:
            log.warning("%s: could not settle a message (%r); the broker will redeliver it",
                        self.queue.name, exc)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            failpoints.fire("consumer.after_commit", self.queue.name)
            self._settle(self.queue_consumer.ack_message, message)
        elif isinstance(exc_info[1], Rejection):
            self.reject(message, exc_info[1])
        else:
            self.retry_later(message, exc_info[1])
        return result, exc_info

    def retry_later(self, message, exc):
        attempt = int((message.headers or {}).get("x-delivery-count", 0) or 0) + 1
        if attempt >= MAX_ATTEMPTS:
            self.reject(message, Rejection("retries_exhausted", f"{type(exc).__name__}: {exc}"[:300]))
            return
        log.warning("%s: attempt %d failed (%s); requeueing", self.queue.name, attempt, exc)
        self.hub.metrics.retries.labels(self.queue.name).inc()
        eventlet.sleep(backoff_seconds(attempt))
        self._settle(self.queue_consumer.requeue_message, message)

    def reject(self, message, rejection):
        log.warning("%s: dead-lettering message: %s", self.queue.name, rejection.header)
        try:
            self.dead_letters.send(message, self.queue, rejection)
        except Exception:
            log.exception("dead-lettering failed; the message is requeued")
            eventlet.sleep(1.0)
            self._settle(self.queue_consumer.requeue_message, message)
            return
        self.hub.metrics.dead_lettered.labels(self.queue.name, rejection.code.split(":")[0]).inc()
        self._settle(self.queue_consumer.ack_message, message)


consume_events = EventConsumer.decorator


def apply_once(uow, event, apply, metrics=None):
    """Apply `apply(uow, event)` unless `event` was already applied; record it in the same
    transaction as its effect. Returns False for a duplicate.

    While the database is unreachable the event is held and the transaction retried with backoff
    (nothing partial is ever written: each try is one transaction); any other error propagates."""
    started, attempt = time.monotonic(), 0
    while True:
        try:
            return _apply_once(uow, event, apply, metrics)
        except DBAPIError as exc:
            if _reachable(uow.engine) or time.monotonic() - started > HOLD_SECONDS:
                raise
            attempt += 1
            if metrics is not None:
                metrics.database_waits.inc()
            log.warning("database unreachable while applying %s %s (%s); holding it, try %d",
                        event.event_type, event.event_id, str(exc).splitlines()[0][:200], attempt)
            eventlet.sleep(backoff_seconds(attempt))


def _reachable(engine):
    try:
        check_database(engine)
        return True
    except Exception:
        return False


def _apply_once(uow, event, apply, metrics):
    try:
        with uow:
            uow.correlation_id = event.correlation_id or str(event.event_id)
            if uow.inbox.seen(event.event_id):
                return _duplicate(event, metrics)
            # claim the event id first: a copy handled at the same moment by another worker or
            # replica waits on this row, then fails its insert and is recognised as a duplicate
            uow.inbox.record(event)
            uow.session.flush()
            apply(uow, event)
            failpoints.fire("handler.before_commit")
            uow.commit()
    except IntegrityError:
        with uow:
            if uow.inbox.seen(event.event_id):
                return _duplicate(event, metrics)
        raise
    if metrics is not None:
        metrics.consumed.labels(event.event_type).inc()
    return True


def _duplicate(event, metrics):
    if metrics is not None:
        metrics.duplicates.labels(event.event_type).inc()
    return False
