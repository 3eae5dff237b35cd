"""The periodic entrypoint survives stray wakeups of its greenthread: nameko's own timer let its
container die of one (audit's HTTP server with it)."""

import time

import eventlet
from nameko.containers import ServiceContainer
from nameko.timer import timer

from spc.shared.service.timer import periodic


def ticker(decorator):
    class Ticker:
        name = "ticker"
        ticks = []

        @decorator(interval=0.01)
        def tick(self):
            Ticker.ticks.append(time.monotonic())
            eventlet.sleep(0.002)

    return Ticker


def wake_the_timer_at_random_moments(container, times=30):
    [entrypoint] = container.entrypoints
    hub = eventlet.hubs.get_hub()
    for i in range(times):
        hub.schedule_call_global(0, lambda: entrypoint.gt.switch() if not entrypoint.gt.dead else None)
        eventlet.sleep(0.001 * (i % 7))


def run_with_stray_wakeups(decorator):
    cls = ticker(decorator)
    container = ServiceContainer(cls, {})
    container.start()
    try:
        wake_the_timer_at_random_moments(container)
        before = len(cls.ticks)
        eventlet.sleep(0.1)
        return container._died.ready(), len(cls.ticks) - before
    finally:
        container.kill()


def test_stray_wakeups_neither_kill_the_container_nor_stop_the_ticks():
    died, ticks_after = run_with_stray_wakeups(periodic)
    assert not died and ticks_after >= 3


def test_nameko_s_timer_does_not_survive_them_which_is_why_periodic_exists():
    died, ticks_after = run_with_stray_wakeups(timer)
    assert died or ticks_after == 0


def test_stop_ends_the_loop_promptly():
    cls = ticker(periodic)
    container = ServiceContainer(cls, {})
    container.start()
    eventlet.sleep(0.05)
    started = time.monotonic()
    container.stop()
    assert time.monotonic() - started < 1 and cls.ticks


def nudge(backstop=1.0):
    from spc.shared.service.timer import Nudge

    provider = Nudge(backstop)
    provider.setup()
    return provider


def test_a_nudged_task_is_due_once_then_rests_until_nudged_again(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    task = nudge()
    assert task.due()  # at start: whatever was left undone before
    assert not task.due()
    task.nudge()
    assert task.due() and not task.due()


def test_a_task_nobody_nudged_is_due_after_its_backstop(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    task = nudge(backstop=1.0)
    task.due()
    clock[0] += 0.9
    assert not task.due()
    clock[0] += 0.1
    assert task.due()  # what another replica did is not left waiting


def test_a_nudge_while_the_task_runs_makes_it_due_again():
    task = nudge(backstop=60)
    assert task.due()
    task.nudge()  # the lanes recorded more while the chainer was at work
    assert task.due()
