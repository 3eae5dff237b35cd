"""The one dispatch (shared/core/dispatch.py): each run of consecutive events of one type to its use
case, in order, a batched use case taking its run at once; a declaration whose table does not
match its queue's bindings is refused when it is made; every service's consumers come from its
declarations, one entrypoint each."""

import pytest

from spc.runtime import config
from spc.runtime.fleet import service_class
from spc.shared.messaging import topology
from spc.shared.core.dispatch import URGENT, Consumes, HandlersDoNotMatchBindings, batched, dispatch
from spc.shared.core.envelope import Event


def _event(event_type, n):
    return Event(event_type, {"n": n}, "test")


def test_runs_of_one_type_go_to_their_use_case_in_order():
    seen = []

    @batched
    def many(uow, events):
        seen.append(("many", [e.payload["n"] for e in events]))

    def one(uow, event):
        seen.append(("one", event.payload["n"]))

    events = [_event("a.x", 1), _event("a.x", 2), _event("b.y", 3), _event("b.y", 4), _event("a.x", 5)]
    dispatch({"a.x": many, "b.y": one}, "uow", events)
    assert seen == [("many", [1, 2]), ("one", 3), ("one", 4), ("many", [5])]


def test_a_declaration_that_misses_a_routed_type_is_refused():
    with pytest.raises(HandlersDoNotMatchBindings, match="registry.service_revoked"):
        Consumes(topology.FUNDING_EVENTS, {"registry.service_approved": print}, URGENT)


def test_every_declared_queue_is_an_entrypoint_of_its_service_and_applies_through_its_declaration():
    for name in config.SERVICE_NAMES:
        cls = service_class(name)
        assert cls.spec.consumers, name
        for consumes in cls.spec.consumers:
            method = getattr(cls, consumes.entrypoint)
            [entrypoint] = method.nameko_entrypoints
            assert (entrypoint.queue, entrypoint.handlers, entrypoint.lane, entrypoint.batch) == (
                consumes.queue,
                consumes.handlers,
                consumes.lane,
                consumes.batch,
            )
