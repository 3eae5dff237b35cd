"""The whole broker topology, declared by every service before it publishes anything.

Which event types reach which queue is not written here: each queue binds the types the event
catalogue (shared/events) routes to it, so routing, dispatch (each consumer's handler table is
checked against these bindings when it starts) and deploy/rabbitmq/definitions.json (generated
by `spc definitions`) cannot drift apart.

An event published to a topic exchange with no bound queue is confirmed and lost (nameko and kombu
publish with mandatory=False), so every service declares all queues and bindings at start-up, not
only its own: whichever service starts first, nothing it publishes falls on the floor.
"""
from kombu import Exchange, Queue, binding

from . import events

INBOUND = Exchange("spc.inbound", "topic", durable=True,
                   arguments={"alternate-exchange": "spc.inbound.unrouted"})
UNROUTED = Exchange("spc.inbound.unrouted", "fanout", durable=True)
EVENTS = Exchange("spc.events", "topic", durable=True)
DEAD = Exchange("spc.dead", "topic", durable=True)

# Consumer queues are quorum queues (replicated, durable, and they count deliveries in
# `x-delivery-count`). Our consumers dead-letter with a reason after MAX_ATTEMPTS (consumer.py);
# the broker's delivery limit is the backstop for a consumer that dies on a message every time
# (it never gets to dead-letter it), and its dead-letter exchange keeps such a message too.
DELIVERY_LIMIT = 20
QUORUM = {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT,
          "x-dead-letter-exchange": "spc.dead"}



def _queue(name, exchange, keys=None, dead_key=None):
    """A quorum queue bound to `exchange` with `keys` (default: the types the catalogue routes
    to it); `event_types` is what its consumer must handle (None: whatever comes)."""
    bound = events.routed_to(name) if keys is None else keys
    dead_key = dead_key or ("inbound" if exchange is INBOUND else "events")
    q = Queue(name, bindings=[binding(exchange, routing_key=k) for k in bound],
              durable=True, queue_arguments={**QUORUM, "x-dead-letter-routing-key": dead_key})
    q.dead_letter_key = dead_key  # where our consumers dead-letter rejected messages
    q.event_types = frozenset(bound) if keys is None else None
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
RETIRED_BINDINGS = [(RETIRED_AUDIT_INBOUND, INBOUND, k)
                    for k in ("compliance.violation_reported", "usager.report_submitted")]
INBOUND_UNROUTED = _queue("spc.inbound.unrouted", UNROUTED, keys=[""], dead_key="inbound")
INBOUND_UNROUTED.event_types = frozenset()  # what no queue is bound to: always refused

INBOUND_DEAD = Queue("spc.inbound.dead", DEAD, routing_key="inbound", durable=True,
                     queue_arguments={"x-queue-type": "quorum"})
EVENTS_DEAD = Queue("spc.events.dead", DEAD, routing_key="events", durable=True,
                    queue_arguments={"x-queue-type": "quorum"})

CONSUMER_QUEUES = [REGISTRY_EVENTS, FUNDING_EVENTS, DISTRIBUTION_EVENTS, DISTRIBUTION_INBOUND,
                   AUDIT_COMPLIANCE, AUDIT_STANDINGS, AUDIT_REPORTS, AUDIT_JOURNAL,
                   RETIRED_AUDIT_INBOUND, INBOUND_UNROUTED]
DEAD_LETTER_QUEUES = [INBOUND_DEAD, EVENTS_DEAD]
EXCHANGES = [UNROUTED, INBOUND, EVENTS, DEAD]


def queue_named(name):
    for queue in CONSUMER_QUEUES:
        if queue.name == name:
            return queue
    raise KeyError(f"no consumer queue named {name!r}")


def declare_all(channel):
    """Declare every exchange, queue and binding (idempotent)."""
    for exchange in EXCHANGES:
        exchange(channel).declare()
    for queue in CONSUMER_QUEUES + DEAD_LETTER_QUEUES:
        queue(channel).declare()
    for queue, exchange, key in RETIRED_BINDINGS:  # a no-op once they are gone
        channel.queue_unbind(queue.name, exchange.name, key)
