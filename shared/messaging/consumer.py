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

import collections
import logging
import os
import time
from functools import partial

import amqp.exceptions
import eventlet
import eventlet.event
import eventlet.semaphore
from eventlet.queue import Empty, LightQueue
from sqlalchemy.exc import DBAPIError
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import DependencyProvider, Entrypoint, SharedExtension
from nameko.messaging import QueueConsumer

from ..core import envelope
from ..observe import failpoints, tracing
from . import topology
from ..core.dispatch import BULK, URGENT, HandlersDoNotMatchBindings, check_handlers  # noqa: F401 (re-exported)
from ..core.errors import Rejection
from ..core.events import is_inbound
from .broker import Publisher
from ..observe.metrics import MetricsHub
from ..core.clock import to_db, utcnow
from ..sql.persistence import check_database
from ..observe.tracing import CONTEXT_KEY, Traces

log = logging.getLogger(__name__)
events_log = logging.getLogger("spc.events")  # one line per handled event: docs/operations.md
MAX_ATTEMPTS = 8
HOLD_SECONDS = float(os.environ.get("SPC_DB_HOLD_SECONDS", 600))


def backoff_seconds(attempt):
    return min(0.1 * 2**attempt, 15.0)


LANES = (URGENT, BULK)
BATCHES_IN_FLIGHT = 2  # per batched queue: the others wait, and grow meanwhile
LINGER = 0.005  # seconds a batch waits to fill once its first event is there
TOPOLOGY_RETRY = 10.0  # seconds between tries while part of the topology is missing
DEFAULT_WORKERS = {URGENT: 4, BULK: 10}
URGENT_FIRST_SECONDS = 0.25  # the longest a bulk worker waits to start while urgent ones run


class RawQueueConsumer(QueueConsumer):
    """nameko's QueueConsumer, but messages reach the provider undecoded, and each queue has its
    own prefetch (its lane's workers, or two batches for a batched lane). `consuming` is true
    once the topology is declared and every queue is consumed, false while reconnecting: the
    readiness probe includes it, so nothing is told "ready" before its queues are bound."""

    consuming = False

    def setup(self):
        super().setup()
        # the delivery tags of the messages received and not yet settled, by channel: what a
        # batch's single `basic.ack multiple` may cover (ack_messages)
        self._unsettled = {}

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.consuming = True
        self._unsettled = {}  # a new channel: the old one's messages went back to the broker
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def handle_message(self, provider, body, message):
        self._unsettled.setdefault(message.channel, set()).add(message.delivery_tag)
        if not provider.take_inline(message):
            super().handle_message(provider, body, message)  # in a greenthread of its own

    def _settled(self, messages):
        for message in messages:
            self._unsettled.get(message.channel, set()).discard(message.delivery_tag)

    def ack_message(self, message):
        self._settled([message])
        super().ack_message(message)

    def requeue_message(self, message):
        self._settled([message])
        super().requeue_message(message)

    def ack_messages(self, messages):
        """Ack a batch: one `basic.ack` with `multiple` when the batch holds every message of its
        channel still unsettled up to its last (a backlog's batches, nearly always), else one
        each. `multiple` acks every tag up to the one given: never one another worker holds."""
        channel = messages[0].channel
        tags = {m.delivery_tag for m in messages}
        unsettled = self._unsettled.get(channel, set())
        if (
            len(messages) > 1
            and all(m.channel is channel for m in messages)
            and channel.connection
            and acks_only(tags, unsettled)
        ):
            last = max(messages, key=lambda m: m.delivery_tag)
            self._settled(messages)
            last.ack(multiple=True)  # raises if the connection just died: EventConsumer._settle
            return
        for message in messages:
            self.ack_message(message)

    def on_connection_error(self, exc, interval):
        self.consuming = False
        super().on_connection_error(exc, interval)

    def on_consume_end(self, connection, channel):
        self.consuming = False
        super().on_consume_end(connection, channel)

    def get_consumers(self, consumer_cls, channel):
        try:
            topology.declare(channel, self.container.service_name)
        except topology.TopologyMissing as exc:
            # a setting to fix, not a crash: said, then tried again as a lost connection is (the
            # service stays not ready meanwhile), until the operators load the definitions
            log.error("%s: %s; trying again in %g s", self.container.service_name, exc, TOPOLOGY_RETRY)
            eventlet.sleep(TOPOLOGY_RETRY)
            raise amqp.exceptions.RecoverableConnectionError(str(exc)) from None
        for provider in self._providers:
            # auto_declare off: kombu would declare the queue's exchanges too, which the
            # service's broker user may not configure (declared above, by what it owns)
            consumer = consumer_cls(
                queues=[provider.queue], accept=None, auto_declare=False, on_message=partial(self.handle_message, provider, None)
            )
            # basic.qos applies to the consumers started after it on the channel: start each
            # one right after its own (else every queue would get the last queue's prefetch)
            consumer.qos(prefetch_count=provider.prefetch)
            consumer.consume()
            self._consumers[provider] = consumer
        return self._consumers.values()


def acks_only(tags, unsettled):
    """Whether acking up to max(`tags`) with `multiple` settles the messages of `tags` and no
    other: every unsettled tag up to that one is in `tags`."""
    top = max(tags)
    return tags <= unsettled and all(tag in tags for tag in unsettled if tag <= top)


class Lanes(SharedExtension):
    """Reserved workers per lane. Urgent lanes (compliance facts, standings) and bulk lanes
    (reports, counters, the journal) each take workers from their own pool, so a flood on a bulk
    queue can never occupy the workers a violation needs. Sizes from the config: `URGENT_WORKERS`
    and `BULK_WORKERS` (spc.config: `SPC_URGENT_WORKERS`, `SPC_MAX_WORKERS`).

    The urgent go first: while an urgent worker runs, no bulk worker starts (for up to
    URGENT_FIRST_SECONDS each: a stuck urgent worker never stops the bulk lanes), then start in the
    order they came, so within one service (one container: `spc up` runs several on one hub, each
    its own) the violation shares the hub's CPU with the bulk work already under way only, never
    with more of it. Those already under way run on: stopping them where they stand could leave
    them holding a lock the urgent worker waits for."""

    def setup(self):
        config = self.container.config
        self.size = {
            URGENT: int(config.get("URGENT_WORKERS", DEFAULT_WORKERS[URGENT])),
            BULK: int(config.get("BULK_WORKERS", DEFAULT_WORKERS[BULK])),
        }
        self.slots = {lane: eventlet.semaphore.Semaphore(n) for lane, n in self.size.items()}
        self.urgent_running = 0
        self._held = collections.deque()  # the bulk workers waiting, in the order they came

    def urgent_started(self):
        self.urgent_running += 1

    def urgent_finished(self):
        self.urgent_running -= 1
        if self.urgent_running == 0:
            while self._held:  # in the order they came: two events of one counter stay in order
                self._held.popleft().send(True)

    def after_urgent(self, limit=URGENT_FIRST_SECONDS):
        """A bulk worker about to start: once no urgent worker runs, or after `limit` seconds."""
        if not self.urgent_running:
            return
        released = eventlet.event.Event()
        self._held.append(released)
        with eventlet.Timeout(limit, False):
            released.wait()
        if not released.ready():  # timed out: no longer waiting
            self._held.remove(released)


class DeadLetters(SharedExtension):
    """Publishes rejected messages, untouched, to `spc.dead` with the reason in a header, and
    with `user_id` set to the service's broker login (which the broker checks): `spc dlq replay`
    trusts a dead letter only from the queue's own consumer (docs/security.md)."""

    def setup(self):
        config = self.container.config
        self.publisher = Publisher(config["AMQP_URI"], self.container.service_name, config.get("AMQP_SSL"))

    def stop(self):
        self.publisher.close()

    def send(self, message, queue, rejection):
        props = message.properties or {}
        info = message.delivery_info or {}
        self.send_raw(
            message.body,
            queue,
            rejection,
            dict(message.headers or {}),
            message_id=props.get("message_id"),
            type_=props.get("type"),
            content_type=message.content_type or "application/octet-stream",
            exchange=info.get("exchange", ""),
            routing_key=info.get("routing_key", ""),
        )

    def send_raw(
        self,
        body,
        queue,
        rejection,
        headers=None,
        message_id=None,
        type_=None,
        content_type="application/json",
        exchange="",
        routing_key="",
    ):
        headers = dict(headers or {})
        headers.update(
            {
                "x-spc-rejection": rejection.header,
                "x-spc-queue": queue.name,
                "x-spc-original-exchange": exchange,
                "x-spc-original-routing-key": routing_key,
                "x-spc-rejected-at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        self.publisher.publish_raw(
            body,
            topology.DEAD,
            queue.dead_letter_key,
            headers=headers,
            message_id=message_id,
            type_=type_,
            content_type=content_type,
            signed=True,
        )


class DeadLetterSink(DependencyProvider):
    """For a use case that refuses a message it had kept (a parked fact past its window):
    `sink(body, queue_name, rejection, message_id, type_)` dead-letters it like a consumer would."""

    dead_letters = DeadLetters()
    hub = MetricsHub()

    def get_dependency(self, worker_ctx):
        def sink(body, queue_name, rejection, message_id=None, type_=None):
            queue = topology.queue_named(queue_name)
            exchange = next(iter(queue.bindings)).exchange.name
            log.warning("%s: dead-lettering a kept message: %s", queue.name, rejection.header)
            self.dead_letters.send_raw(
                body, queue, rejection, message_id=message_id, type_=type_, exchange=exchange, routing_key=type_ or ""
            )
            self.hub.metrics.dead_lettered.labels(queue.name, rejection.code).inc()
            log_event("dead_lettered", message_id, type_, None, queue.name, self.container.service_name, reason=rejection.code)

        return sink


class EventConsumer(Entrypoint):
    """`@consume_events(queue, handlers=TABLE, lane=URGENT|BULK, batch=N)`: TABLE maps each event
    type the catalogue routes to `queue` to its use case (checked: see check_handlers); the
    decorated method receives one
    validated `Event` (batch=1), or a list of up to N events that arrived together (batch>1),
    to apply in one transaction and acknowledge together. If a batch fails, its events are tried
    one by one, so one bad event never holds back the others."""

    queue_consumer = RawQueueConsumer()
    dead_letters = DeadLetters()
    lanes = Lanes()
    hub = MetricsHub()
    traces = Traces()

    def __init__(self, queue, handlers=None, lane=BULK, batch=1, **kwargs):
        kwargs.setdefault("expected_exceptions", (Rejection,))
        self.queue, self.handlers = queue, handlers
        self.lane, self.batch = lane, batch
        check_handlers(queue, handlers)
        super().__init__(**kwargs)

    @property
    def accepted_types(self):
        if self.handlers is not None:
            return frozenset(self.handlers)
        return self.queue.event_types  # None: whatever the queue's bindings bring (the journal)

    @property
    def prefetch(self):
        return (BATCHES_IN_FLIGHT + 1) * self.batch if self.batch > 1 else self.lanes.size[self.lane]

    def setup(self):
        # a process may run some lanes only (`spc run --lanes urgent`): the others' queues are
        # left to another process of the same service
        self.off = self.lane not in self.container.config.get("LANES", LANES)
        self._pending = LightQueue()
        self._in_flight = eventlet.semaphore.Semaphore(BATCHES_IN_FLIGHT)
        self._running = False
        if not self.off:
            self.queue_consumer.register_provider(self)

    def start(self):
        self._running = True
        if self.batch > 1 and not self.off:
            self.container.spawn_managed_thread(self._batcher, identifier=f"batcher:{self.queue.name}")

    def stop(self):
        self._running = False
        if not self.off:
            self.queue_consumer.unregister_provider(self)

    def _parse(self, message):
        info = message.delivery_info or {}
        # replayed dead letters come through the default exchange, keyed by queue name
        routing_key = info.get("routing_key") if info.get("exchange") else None
        return envelope.parse(message.body, routing_key, self.accepted_types)

    def _count_redelivery(self, message):
        if (message.delivery_info or {}).get("redelivered"):
            self.hub.metrics.redeliveries.labels(self.queue.name).inc()

    def take_inline(self, message):
        """A batched lane's message, taken in the queue consumer's own greenthread: parsed and
        queued for the batcher, with no greenthread of its own (one per message was a tenth of
        the journal lane's CPU). Returns False, having done nothing, for what needs more than that
        (a lane of one, a message to dead-letter, a failpoint): handle_message does it."""
        if self.batch == 1 or failpoints.armed("consumer.received", self.queue.name):
            return False
        try:
            event = self._parse(message)
        except Rejection:
            return False
        self._count_redelivery(message)
        self._pending.put((event, message))
        return True

    def handle_message(self, body, message):
        self._count_redelivery(message)
        try:
            event = self._parse(message)
        except Rejection as rejection:
            span = self._span_of([message])
            self.reject(message, rejection, span=span)
            tracing.end(span, spc__outcome="dead_lettered", spc__reason=rejection.code.split(":")[0])
            return
        if failpoints.armed("consumer.received", self.queue.name):  # off in production
            eventlet.spawn_n(self._dispatch_after_failpoint, event, message)
            return
        self._route(event, message)

    def _dispatch_after_failpoint(self, event, message):
        failpoints.fire("consumer.received", self.queue.name)
        self._route(event, message)

    def _route(self, event, message):
        if self.batch > 1:
            self._pending.put((event, message))
        else:
            self._dispatch([(event, message)])

    def _batcher(self):
        """Gathers what has arrived into batches: at most BATCHES_IN_FLIGHT at a time, each
        waiting up to LINGER seconds to fill, so a backlog is taken `batch` events at a time."""
        while self._running:
            self._in_flight.acquire()
            try:
                items = self._gather()
            except Exception:  # never let it kill the container: the messages stay unacked
                log.exception("%s: gathering a batch failed", self.queue.name)
                items = []
            if items:
                self._dispatch(items, batch=True)
            else:
                self._in_flight.release()

    def _gather(self):
        """Up to `batch` (event, message) pairs. A get that returns None was a stray wakeup of
        this greenthread (not an item: see shared/service/timer.py), never passed on."""
        try:
            items = [self._pending.get(timeout=0.5)]
        except Empty:
            return []
        deadline = time.monotonic() + LINGER
        while len(items) < self.batch:
            try:
                items.append(self._pending.get(timeout=max(0.0, deadline - time.monotonic())))
            except Empty:
                break
        return [item for item in items if item is not None]

    def _dispatch(self, items, batch=False):
        """Start a worker for `items` once the lane has a free worker (waits for one; a bulk lane
        also lets the urgent workers running finish first: Lanes)."""
        slots = self.lanes.slots[self.lane]
        slots.acquire()
        if self.lane == BULK:  # with its slot: an urgent worker that starts meanwhile is waited for too
            self.lanes.after_urgent()
        else:
            self.lanes.urgent_started()
        started = time.monotonic()
        if self.batch > 1:
            self.hub.metrics.batch_size.labels(self.queue.name).observe(len(items))
        events = [event for event, _ in items]
        args = (events,) if self.batch > 1 else (events[0],)
        _watch(events)
        span = self._span_of([message for _, message in items], events)
        try:
            self.container.spawn_worker(
                self,
                args,
                {},
                context_data={CONTEXT_KEY: tracing.carrier_of(span)},
                handle_result=partial(self.handle_result, items, batch, started, span),
            )
        except ContainerBeingKilled:
            tracing.end(span, spc__outcome="requeued")
            _outcomes(events)
            slots.release()
            if self.lane == URGENT:
                self.lanes.urgent_finished()
            if batch:
                self._in_flight.release()
            for _, message in items:
                self._settle(self.queue_consumer.requeue_message, message)

    def _span_of(self, messages, events=None):
        """The CONSUMER span of a worker applying `events` (None: traces off), the child of the
        first message's context (W3C headers; none: a new trace), linked to the others'."""
        tracer = self.traces.tracer
        if tracer is None:
            return None
        carried = [tracing.carrier(m.headers) for m in messages]
        info = messages[0].delivery_info or {}
        if events:
            attributes = tracing.process_attributes(self.queue.name, info.get("exchange"), info.get("routing_key"), events)
        else:  # not parsed: what the publisher's properties say
            props = messages[0].properties or {}
            attributes = {
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.destination.subscription.name": self.queue.name,
                "messaging.message.id": props.get("message_id"),
                "spc.event_type": props.get("type"),
            }
        if info.get("redelivered"):
            attributes["messaging.rabbitmq.redelivered"] = True
        return tracing.start_span(
            tracer,
            f"process {self.queue.name}",
            "CONSUMER",
            carried[0],
            attributes,
            tracing.links_to(carried[1:]) if len(carried) > 1 else None,
        )

    def _settle(self, action, message):
        """Ack or requeue (a message, or a batch's messages: ack_messages). If the connection died
        under us (a lost heartbeat, a broker restart) the broker already took the messages back
        and will deliver them again: the inbox absorbs that, so a failed ack is logged, never
        allowed to kill the service."""
        try:
            action(message)
        except Exception as exc:
            log.warning("%s: could not settle a message (%r); the broker will redeliver it", self.queue.name, exc)

    def handle_result(self, items, batch, started, span, worker_ctx, result=None, exc_info=None):
        elapsed = time.monotonic() - started
        outcomes = _outcomes([event for event, _ in items])
        self.lanes.slots[self.lane].release()
        if self.lane == URGENT:
            self.lanes.urgent_finished()
        if batch:
            self._in_flight.release()
        if span is not None:
            self._end_span(span, items, outcomes, exc_info)
        if exc_info is None:
            failpoints.fire("consumer.after_commit", self.queue.name)
            self._settle(self.queue_consumer.ack_messages, [message for _, message in items])
            self._handled(items, outcomes, elapsed, span)
        elif len(items) > 1:  # try each on its own: only the culprit is retried or rejected
            log.info("%s: a batch of %d failed (%s); applying them one by one", self.queue.name, len(items), exc_info[1])
            for item in items:
                eventlet.spawn_n(self._dispatch, [item])
        elif isinstance(exc_info[1], Rejection):
            self.reject(items[0][1], exc_info[1], items[0][0], elapsed)
        else:
            self.retry_later(items[0][1], exc_info[1], items[0][0], elapsed)
        return result, exc_info

    def _end_span(self, span, items, outcomes, exc_info):
        """spc.outcome: applied, duplicate (a batch: the counts of each), or what becomes of a
        failure: tried one by one (a batch), dead_lettered, retried."""
        if exc_info is None:
            if len(items) == 1:
                tracing.end(span, spc__outcome=outcomes[0])
            else:
                tracing.end(
                    span,
                    spc__outcome="applied",
                    spc__applied=outcomes.count("applied"),
                    spc__duplicates=outcomes.count("duplicate"),
                )
            return
        error = exc_info[1]
        if len(items) > 1:
            outcome = "one_by_one"
        elif isinstance(error, Rejection):
            outcome = "dead_lettered"
        else:
            attempt = int((items[0][1].headers or {}).get("x-delivery-count", 0) or 0) + 1
            outcome = "dead_lettered" if attempt >= MAX_ATTEMPTS else "retried"
        tracing.end(
            span, error, spc__outcome=outcome, spc__reason=error.code.split(":")[0] if isinstance(error, Rejection) else None
        )

    def _handled(self, items, outcomes, elapsed, span=None):
        """Committed: the time each event took (a batch's time shared among its events) and one
        line per event (built only when spc.events logs at INFO)."""
        share, histogram = elapsed / len(items), self.hub.metrics.handler_seconds
        exemplar = tracing.exemplar(span) if span is not None else None
        for event, _ in items:
            histogram.labels(event.event_type).observe(share, exemplar)
        if events_log.isEnabledFor(logging.INFO):
            size = {"batch_size": len(items)} if len(items) > 1 else {}
            traced = tracing.ids_fields(span) if span is not None else {}
            for (event, _), outcome in zip(items, outcomes, strict=True):
                log_event(
                    outcome,
                    event.event_id,
                    event.event_type,
                    event.correlation_id,
                    self.queue.name,
                    self.container.service_name,
                    elapsed,
                    **size,
                    **traced,
                )

    def _log_message(self, outcome, message, event, elapsed, **more):
        """The line of a message that was not applied: its event, or what its properties say."""
        if event is not None:
            event_id, event_type, correlation = event.event_id, event.event_type, event.correlation_id
        else:  # not parsed: the message id and type the publisher set, if any
            props = message.properties or {}
            event_id, event_type, correlation = props.get("message_id"), props.get("type"), None
        log_event(outcome, event_id, event_type, correlation, self.queue.name, self.container.service_name, elapsed, **more)

    def retry_later(self, message, exc, event=None, elapsed=None):
        attempt = int((message.headers or {}).get("x-delivery-count", 0) or 0) + 1
        if attempt >= MAX_ATTEMPTS:
            self.reject(message, Rejection("retries_exhausted", f"{type(exc).__name__}: {exc}"[:300]), event, elapsed)
            return
        log.warning("%s: attempt %d failed (%s); requeueing", self.queue.name, attempt, exc)
        self.hub.metrics.retries.labels(self.queue.name).inc()
        self._log_message("retried", message, event, elapsed, attempt=attempt, error=type(exc).__name__)
        eventlet.sleep(backoff_seconds(attempt))
        self._settle(self.queue_consumer.requeue_message, message)

    def reject(self, message, rejection, event=None, elapsed=None, span=None):
        log.warning("%s: dead-lettering message: %s", self.queue.name, rejection.header)
        reason = rejection.code.split(":")[0]
        try:
            self.dead_letters.send(message, self.queue, rejection)
        except Exception:
            log.exception("dead-lettering failed; the message is requeued")
            self._log_message("retried", message, event, elapsed, error="dead_lettering_failed")
            eventlet.sleep(1.0)
            self._settle(self.queue_consumer.requeue_message, message)
            return
        self.hub.metrics.dead_lettered.labels(self.queue.name, reason).inc()
        self._log_message(
            "dead_lettered", message, event, elapsed, reason=reason, **(tracing.ids_fields(span) if span is not None else {})
        )
        self._settle(self.queue_consumer.ack_message, message)


consume_events = EventConsumer.decorator


def log_event(outcome, event_id, event_type, correlation_id, queue, service, elapsed=None, **more):
    """One line on `spc.events` at INFO: what became of an event (applied, duplicate, retried,
    dead_lettered), never its payload. Nothing is built when INFO is off for spc.events."""
    if not events_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "event_id": None if event_id is None else str(event_id),
        "event_type": event_type,
        "outcome": outcome,
        "queue": queue,
        "service": service,
    }
    if correlation_id:
        fields["correlation_id"] = correlation_id
    if elapsed is not None:
        fields["duration_ms"] = round(elapsed * 1000, 1)
    fields.update(more)
    events_log.info("%s %s", event_type, outcome, extra=fields)


# What `apply_batch` found of each event a consumer's worker holds (applied or duplicate), keyed
# by the event object's id() from its dispatch to its result (the consumer keeps the object
# alive meanwhile); events applied outside a consumer are not watched.
_OUTCOME: dict[int, str] = {}


def _watch(events):
    for event in events:
        _OUTCOME[id(event)] = "applied"


def _outcomes(events):
    """Stop watching `events`; what was found of each (applied unless found a duplicate)."""
    return [_OUTCOME.pop(id(event), "applied") for event in events]


def apply_once(uow, event, apply, metrics=None, inbox="inbox"):
    """Apply `apply(uow, event)` unless `event` was already applied; record it in the same
    transaction as its effect. Returns False for a duplicate."""
    return apply_batch(uow, [event], lambda u, events: apply(u, events[0]), metrics, inbox) == 1


def apply_batch(uow, events, apply_all, metrics=None, inbox="inbox"):
    """`apply_all(uow, fresh)` with the events not applied before, in one transaction that also
    records their ids (in `uow.<inbox>`). Returns how many were applied (the rest were
    duplicates).

    While the database is unreachable, or a try's connection was cut (a restart, a failover), the
    events are held and the transaction retried with backoff (nothing partial is ever written:
    each try is one transaction; a commit cut before its answer is found by the inbox on the next
    try); any other error propagates."""
    started, attempt = time.monotonic(), 0
    while True:
        try:
            return _apply_batch(uow, events, apply_all, metrics, inbox)
        except DBAPIError as exc:
            # a connection cut mid-transaction (the server restarted, or failed over to its
            # standby) is the database's outage too, even if a new connection already works; so
            # is a connection refused (no statement ran), even if the database answers again the
            # instant after (checking then would take its return for a bug in the transaction)
            lost = exc.connection_invalidated or exc.statement is None
            if (not lost and _reachable(uow.engine)) or time.monotonic() - started > HOLD_SECONDS:
                raise
            attempt += 1
            if metrics is not None:
                metrics.database_waits.inc()
            log.warning(
                "database unreachable while applying %d event(s) (%s); holding them, try %d",
                len(events),
                str(exc).splitlines()[0][:200],
                attempt,
            )
            eventlet.sleep(backoff_seconds(attempt))


def _reachable(engine):
    try:
        check_database(engine)
        return True
    except Exception:
        return False


def _fresh(events, seen):
    fresh, ids = [], set(seen)
    for event in events:
        if str(event.event_id) not in ids:
            ids.add(str(event.event_id))
            fresh.append(event)
    return fresh


def _apply_batch(uow, events, apply_all, metrics, inbox):
    """One try: the ids claimed (`INSERT … ON CONFLICT DO NOTHING`: a copy is never an error, the
    ids already recorded are simply not claimed), the fresh events applied, all committed. Any
    error propagates (a batch's: the consumer then tries its events one by one)."""
    with uow:
        # events caused by a batch carry the first event's correlation id
        uow.correlation_id = events[0].correlation_id or str(events[0].event_id)
        # on whose request, when staff started the chain: SPC's own events only (an outside
        # publisher's envelope cannot attribute anything to staff)
        uow.actor = None if is_inbound(events[0].event_type) else events[0].actor
        # claim the event ids first, in one statement: a copy handled at the same moment by
        # another worker or replica waits on these rows, then finds them taken (a duplicate)
        distinct = _fresh(events, ())
        claimed = getattr(uow, inbox).claim_many(distinct)
        fresh = [e for e in distinct if str(e.event_id) in claimed]
        if fresh:
            apply_all(uow, fresh)
        failpoints.fire("handler.before_commit")
        uow.commit()
    if metrics is not None:
        now = utcnow()
        for event in fresh:
            metrics.consumed.labels(event.event_type).inc()
            metrics.delivery.labels(event.event_type).observe(
                max(0.0, (now - to_db(event.occurred_at)).total_seconds()), tracing.exemplar()
            )
    applied = {id(e) for e in fresh}
    _duplicates([e for e in events if id(e) not in applied], metrics)
    return len(fresh)


def _duplicates(events, metrics):
    for event in events:
        if id(event) in _OUTCOME:
            _OUTCOME[id(event)] = "duplicate"
        if metrics is not None:
            metrics.duplicates.labels(event.event_type).inc()


def entrypoint_for(consumes):
    """The nameko entrypoint of a queue's declaration (shared/core/dispatch.Consumes), named
    `consumes.entrypoint`: the worker applies the events once (apply_batch, then the declared
    dispatch), then tells the service (`consumed`, a hook: audit's chainer is nudged)."""

    def consume(service, events):
        events = events if consumes.batch > 1 else [events]
        apply_batch(service.store.uow(), events, consumes.apply, service.metrics, consumes.inbox)
        service.consumed(consumes)

    consume.__name__ = consume.__qualname__ = consumes.entrypoint
    consume.__doc__ = f"Consumes {consumes.queue.name} ({consumes.lane} lane)."
    return consume_events(consumes.queue, handlers=consumes.handlers, lane=consumes.lane, batch=consumes.batch)(consume)
