"""The urgent go first (shared/messaging/consumer.py, `Lanes`): while an urgent worker runs, no
bulk worker starts, for a bounded time; every urgent worker is counted out, whatever became of
its events, so the bulk lanes are never held back by a worker that has ended."""

import sys
from types import SimpleNamespace
from unittest import mock

import eventlet
import pytest

from spc.shared.messaging import topology
from spc.shared.messaging.consumer import BULK, URGENT, EventConsumer, Lanes
from spc.shared.core.envelope import new_event


def lanes():
    made = Lanes()
    made.container = SimpleNamespace(config={})
    made.setup()
    return made


def test_a_bulk_worker_starts_at_once_when_no_urgent_one_runs():
    shared = lanes()
    with eventlet.Timeout(5):
        shared.after_urgent(limit=30)


def test_a_bulk_worker_waits_until_the_urgent_ones_running_have_finished():
    shared, started = lanes(), []
    shared.urgent_started()
    shared.urgent_started()
    waiting = eventlet.spawn(lambda: (shared.after_urgent(limit=30), started.append(True)))
    eventlet.sleep(0.02)
    assert not started
    shared.urgent_finished()
    eventlet.sleep(0.02)
    assert not started, "a bulk worker started while an urgent one still ran"
    shared.urgent_finished()
    with eventlet.Timeout(5):
        waiting.wait()
    assert started and shared.urgent_running == 0


def test_the_bulk_workers_held_start_in_the_order_they_came():
    shared, started = lanes(), []
    shared.urgent_started()
    waiting = [eventlet.spawn(lambda n=n: (shared.after_urgent(limit=30), started.append(n))) for n in range(20)]
    eventlet.sleep(0.02)
    shared.urgent_finished()
    with eventlet.Timeout(5):
        for thread in waiting:
            thread.wait()
    assert started == list(range(20))


def test_a_stuck_urgent_worker_holds_the_bulk_lanes_back_no_longer_than_the_limit():
    shared = lanes()
    shared.urgent_started()
    with eventlet.Timeout(5, AssertionError("the bulk worker waited past its limit")):
        shared.after_urgent(limit=0.01)
    assert shared.urgent_running == 1 and not shared._held


def consumer(lane, shared, outcome):
    """An EventConsumer of `lane` whose container runs each worker at once, to `outcome`: None
    (applied) or an exception (the handler raised it)."""
    made = EventConsumer(topology.DISTRIBUTION_EVENTS, None, lane)
    made.lanes, made.hub, made.queue_consumer = shared, mock.MagicMock(), mock.MagicMock()
    made.traces = SimpleNamespace(tracer=None)
    made.dead_letters = mock.MagicMock()

    def spawn_worker(provider, args, kwargs, context_data, handle_result):
        assert shared.urgent_running == (1 if lane == URGENT else 0)
        error = None if outcome is None else (type(outcome), outcome, None)
        handle_result(SimpleNamespace(), None, error)

    made.container = SimpleNamespace(spawn_worker=spawn_worker, service_name="distribution", config={})
    return made


@pytest.mark.parametrize("outcome", [None, RuntimeError("database gone")], ids=["applied", "failed"])
def test_every_urgent_worker_is_counted_out_whatever_became_of_its_event(outcome, monkeypatch):
    monkeypatch.setattr(sys.modules[EventConsumer.__module__], "backoff_seconds", lambda attempt: 0)
    shared = lanes()
    event = new_event(
        "registry.service_suspended",
        {"service_id": "s-1", "name": "S", "status": "suspended", "version": 2, "territories": {"national": True}},
        "registry",
    )
    message = SimpleNamespace(headers={}, properties={}, delivery_info={}, channel=None, delivery_tag=1)
    consumer(URGENT, shared, outcome)._dispatch([(event, message)])
    assert shared.urgent_running == 0
    consumer(BULK, shared, outcome)._dispatch([(event, message)])  # a bulk one counts nothing
    assert shared.urgent_running == 0


def test_a_bulk_lane_dispatches_its_worker_only_once_the_urgent_one_has_finished():
    shared, started = lanes(), []
    bulk = consumer(BULK, shared, None)
    bulk.container.spawn_worker = lambda *args, **kwargs: started.append(True)
    shared.urgent_started()
    event = new_event("counter.closed", {"counter_id": "fs-1"}, "anct")
    dispatching = eventlet.spawn(bulk._dispatch, [(event, SimpleNamespace())])
    eventlet.sleep(0.02)
    assert not started, "a bulk worker started beside an urgent one"
    shared.urgent_finished()
    with eventlet.Timeout(5):
        dispatching.wait()
    assert started == [True]
