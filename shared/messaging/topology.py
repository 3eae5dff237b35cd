"""The whole broker topology, declared by every service before it publishes anything.

Which event types reach which queue is not written here: each queue binds the types the event
catalogue (shared/core/events) routes to it, so routing, dispatch (each consumer's handler table is
checked against these bindings when it starts) and deploy/rabbitmq/definitions.json (generated
by `spc definitions`) cannot drift apart.

Each queue has an owner, the service that consumes it. A service declares its own queues and
binds them; its broker user may configure those only (least privilege: spc/generate/definitions.py). It
checks that everything else exists before it publishes or consumes: an event published to a topic
exchange with no bound queue is confirmed and lost (nameko and kombu publish with
mandatory=False). With deploy/rabbitmq/definitions.json loaded, as in deployment, everything
exists; on a broker without it (a local RabbitMQ's guest, the embedded broker), what is missing is
created, so whichever service starts first, nothing it publishes falls on the floor.
"""

import logging

import amqp
from kombu import Exchange, Queue, binding

from ..core import events

log = logging.getLogger(__name__)

INBOUND = Exchange("spc.inbound", "topic", durable=True, arguments={"alternate-exchange": "spc.inbound.unrouted"})
UNROUTED = Exchange("spc.inbound.unrouted", "fanout", durable=True)
EVENTS = Exchange("spc.events", "topic", durable=True)
DEAD = Exchange("spc.dead", "topic", durable=True)

# Consumer queues are quorum queues (replicated, durable, and they count deliveries in
# `x-delivery-count`). Our consumers dead-letter with a reason after MAX_ATTEMPTS (consumer.py);
# the broker's delivery limit is the backstop for a consumer that dies on a message every time
# (it never gets to dead-letter it), and its dead-letter exchange keeps such a message too.
DELIVERY_LIMIT = 20
QUORUM = {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT, "x-dead-letter-exchange": "spc.dead"}


def _queue(name, exchange, keys=None, dead_key=None, owner=None):
    """A quorum queue bound to `exchange` with `keys` (default: the types the catalogue routes
    to it); `event_types` is what its consumer must handle (None: whatever comes); `owner` the
    service that consumes it (default: the first part of its name)."""
    bound = events.routed_to(name) if keys is None else keys
    dead_key = dead_key or ("inbound" if exchange is INBOUND else "events")
    q = Queue(
        name,
        bindings=[binding(exchange, routing_key=k) for k in bound],
        durable=True,
        queue_arguments={**QUORUM, "x-dead-letter-routing-key": dead_key},
    )
    q.dead_letter_key = dead_key  # where our consumers dead-letter rejected messages
    q.event_types = frozenset(bound) if keys is None else None
    q.owner = owner or name.split(".", 1)[0]
    if q.owner not in events.SERVICES:
        raise ValueError(f"queue {name}: its owner {q.owner!r} is no SPC service")
    return q


REGISTRY_EVENTS = _queue("registry.events", EVENTS)
FUNDING_EVENTS = _queue("funding.events", EVENTS)
DISTRIBUTION_EVENTS = _queue("distribution.events", EVENTS)
DISTRIBUTION_INBOUND = _queue("distribution.inbound", INBOUND)
# Audit's lanes. Compliance facts and the standings they depend on travel apart from bulk traffic
# (citizen reports, the journal of every event), so a violation never waits behind a backlog:
# each lane is its own queue, consumed with its own reserved workers (consumer.py).
AUDIT_COMPLIANCE = _queue("audit.compliance", INBOUND)
AUDIT_STANDINGS = _queue("audit.standings", EVENTS)
AUDIT_REPORTS = _queue("audit.reports", INBOUND)
AUDIT_JOURNAL = _queue("audit.events", EVENTS, keys=["#"])
# Before the lanes, violations and reports shared `audit.inbound`. A broker upgraded from then
# still has that queue and its bindings: every service unbinds it at start-up (declare_all) and
# audit drains what it still holds. Remove once no deployment predates the lanes.
RETIRED_AUDIT_INBOUND = _queue("audit.inbound", INBOUND, keys=[])
RETIRED_AUDIT_INBOUND.event_types = AUDIT_COMPLIANCE.event_types | AUDIT_REPORTS.event_types
RETIRED_BINDINGS = [(RETIRED_AUDIT_INBOUND, INBOUND, k) for k in ("compliance.violation_reported", "usager.report_submitted")]
INBOUND_UNROUTED = _queue("spc.inbound.unrouted", UNROUTED, keys=[""], dead_key="inbound", owner="audit")
INBOUND_UNROUTED.event_types = frozenset()  # what no queue is bound to: always refused

INBOUND_DEAD = Queue("spc.inbound.dead", DEAD, routing_key="inbound", durable=True, queue_arguments={"x-queue-type": "quorum"})
EVENTS_DEAD = Queue("spc.events.dead", DEAD, routing_key="events", durable=True, queue_arguments={"x-queue-type": "quorum"})
# the operators' (spc dlq): no service declares them (kombu's Queue knows no `owner`: the ignore)
INBOUND_DEAD.owner = EVENTS_DEAD.owner = None  # type: ignore[attr-defined]

CONSUMER_QUEUES = [
    REGISTRY_EVENTS,
    FUNDING_EVENTS,
    DISTRIBUTION_EVENTS,
    DISTRIBUTION_INBOUND,
    AUDIT_COMPLIANCE,
    AUDIT_STANDINGS,
    AUDIT_REPORTS,
    AUDIT_JOURNAL,
    RETIRED_AUDIT_INBOUND,
    INBOUND_UNROUTED,
]
DEAD_LETTER_QUEUES = [INBOUND_DEAD, EVENTS_DEAD]
EXCHANGES = [UNROUTED, INBOUND, EVENTS, DEAD]


def queue_named(name):
    for queue in CONSUMER_QUEUES:
        if queue.name == name:
            return queue
    raise KeyError(f"no consumer queue named {name!r}")


def owned_by(service):
    """The consumer queues `service` declares, binds and reads."""
    return [q for q in CONSUMER_QUEUES if q.owner == service]


class TopologyMissing(Exception):
    """Part of the topology is missing and this broker user may not create it."""


def declare(channel, service=None):
    """Make sure the whole topology is there (idempotent). `service` declares its own queues and
    binds them (and unbinds its retired ones); everything else is only checked, and created when
    missing, which the broker allows to a user of a vhost without SPC's definitions (a local
    RabbitMQ's guest) and refuses to SPC's confined users: TopologyMissing then names what is
    missing and how to create it. `service=None` (tools, tests) owns nothing."""
    if not isinstance(channel, amqp.Channel):  # the embedded broker: no users, no permissions
        for exchange in EXCHANGES:
            exchange(channel).declare()
        for queue in CONSUMER_QUEUES + DEAD_LETTER_QUEUES:
            queue(channel).declare()
        return
    for exchange in EXCHANGES:
        _ensure(channel, "exchange", exchange.name, exchange.type, lambda ch, e=exchange: _declare_exchange(ch, e))
    for queue in CONSUMER_QUEUES + DEAD_LETTER_QUEUES:
        if service is not None and queue.owner == service:
            _declare_queue(channel, queue)
        else:
            _ensure(channel, "queue", queue.name, None, lambda ch, q=queue: _declare_queue(ch, q))
    for queue, exchange, key in RETIRED_BINDINGS:  # a no-op once they are gone
        if queue.owner == service:
            channel.queue_unbind(queue.name, exchange.name, key)


def _bindings(queue):
    if queue.exchange is not None and queue.exchange.name:  # a dead-letter queue
        return [(queue.exchange.name, queue.routing_key)]
    return [(b.exchange.name, b.routing_key) for b in queue.bindings]


def _declare_exchange(channel, exchange):
    channel.exchange_declare(
        exchange.name, exchange.type, durable=True, auto_delete=False, arguments=dict(exchange.arguments or {})
    )


def _declare_queue(channel, queue):
    channel.queue_declare(
        queue.name, durable=True, exclusive=False, auto_delete=False, arguments=dict(queue.queue_arguments or {})
    )
    for exchange, key in _bindings(queue):
        channel.queue_bind(queue.name, exchange, key)


def _ensure(channel, kind, name, type_, create):
    """Check that exchange or queue `name` exists (a passive declare, which needs no right), on
    a channel of its own: the broker closes the channel that asks for something missing (and
    py-amqp opens it again: each is closed here, whatever happened)."""
    probe = channel.connection.channel()
    try:
        if kind == "exchange":
            probe.exchange_declare(name, type_, passive=True)
        else:
            probe.queue_declare(name, passive=True)
        return
    except amqp.exceptions.NotFound:
        pass
    finally:
        _close(probe)
    maker = channel.connection.channel()
    try:
        create(maker)
    except amqp.exceptions.AccessRefused as exc:
        raise TopologyMissing(
            f"the {kind} {name!r} is missing from this vhost and this broker user may not create it "
            f"({exc.reply_text}): load SPC's definitions first (spc definitions --load, "
            "deploy/rabbitmq/README.md)"
        ) from None
    finally:
        _close(maker)


def _close(channel):
    try:
        channel.close()
    except Exception as exc:  # already closed by the broker, or the connection is going: nothing to free
        log.debug("closing a topology probe channel: %r", exc)


def declare_all(channel):
    """Everything, owned by nobody: what tools and tests use on a vhost of their own."""
    declare(channel)
