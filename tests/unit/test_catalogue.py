"""One home per event type: the catalogue (shared/core/events) says where each type is routed; the
topology binds exactly that, and each consumer's handler table handles exactly what its queue
receives, or the service class cannot even be defined."""

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from spc.runtime import config
from spc.runtime.fleet import service_class
from spc.shared.core import events
from spc.shared.messaging import topology
from spc.shared.messaging.consumer import EventConsumer, HandlersDoNotMatchBindings, check_handlers


def consumers():
    for name in config.SERVICE_NAMES:
        cls = service_class(name)
        for attr in dir(cls):
            for ext in getattr(getattr(cls, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(ext, EventConsumer):
                    yield name, attr, ext


def test_every_queue_the_catalogue_names_is_a_queue_of_the_topology():
    named = {q for e in events.event_types() for q in e.queues}
    assert named <= {q.name for q in topology.CONSUMER_QUEUES}


def test_each_queue_binds_exactly_the_types_the_catalogue_routes_to_it():
    for queue in topology.CONSUMER_QUEUES:
        if queue.event_types and queue.bindings:  # not the journal (#), the unrouted or retired ones
            assert {b.routing_key for b in queue.bindings} == set(events.routed_to(queue.name))


def test_every_inbound_type_reaches_a_queue_and_has_a_publisher():
    for entry in events.event_types():
        if entry.inbound:
            assert entry.queues and entry.publishers, entry.name


def test_every_consumer_handles_exactly_what_its_queue_receives():
    seen = {}
    for service, method, consumer in consumers():
        check_handlers(consumer.queue, consumer.handlers)  # raises on any difference
        seen.setdefault(consumer.queue.name, []).append(f"{service}.{method}")
    assert set(seen) == {q.name for q in topology.CONSUMER_QUEUES}, "a queue nobody consumes"
    assert all(len(where) == 1 for where in seen.values()), seen


def test_a_handler_table_that_misses_a_routed_type_is_refused_when_the_class_is_defined():
    with pytest.raises(HandlersDoNotMatchBindings, match="registry.service_revoked"):

        class Broken:
            @EventConsumer.decorator(
                topology.FUNDING_EVENTS, handlers={t: print for t in events.SERVICE_LIFECYCLE if t != "registry.service_revoked"}
            )
            def on_event(self, event):
                pass


def test_a_handler_for_a_type_not_routed_to_the_queue_is_refused_too():
    with pytest.raises(HandlersDoNotMatchBindings, match="counter.closed"):
        check_handlers(
            topology.REGISTRY_EVENTS,
            {"audit.violation_confirmed": print, "audit.violation_resolved": print, "counter.closed": print},
        )
