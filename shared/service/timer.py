"""`@periodic(interval)`: nameko's timer entrypoint, made robust.

nameko's Timer shares one `worker_complete` event between its loop and its workers: it waits,
then `reset()`s it, and each worker's result handler `send()`s it. Seen here (audit's 0.2 s
journal timer, under load): the loop woke without its worker done (`reset()` of a fresh event)
and a worker sent an event already sent (`re-send()`): either assertion kills the timer's thread,
and nameko then kills the whole container, its HTTP server with it. Here each tick has its own
event, handed to its own worker, sent at most once, and the loop re-checks what it waits for."""

import logging
import time
from functools import partial

from eventlet.event import Event
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

log = logging.getLogger(__name__)


class Periodic(Timer):
    """`config_key`: the name of a container setting that, when present, replaces `interval`."""

    def __init__(self, interval, eager=False, config_key=None, **kwargs):
        self.config_key = config_key  # nameko's Entrypoint takes no such argument: kept here
        super().__init__(interval, eager, **kwargs)

    def setup(self):
        if self.config_key and self.container.config.get(self.config_key) is not None:
            self.interval = float(self.container.config[self.config_key])
        super().setup()

    def _run(self):
        started = time.monotonic()
        for tick in range(0 if self.eager else 1, 2**62):
            if self._stopped_within(started + tick * self.interval - time.monotonic()):
                return
            done = Event()
            self.container.spawn_worker(self, (), {}, handle_result=partial(self._finished, done))
            while not done.ready():  # a wakeup that is not this worker's end waits again
                done.wait()

    @staticmethod
    def _finished(done, worker_ctx, result, exc_info):
        if done.ready():
            log.warning("%s: a worker's end was reported twice", worker_ctx.entrypoint.method_name)
        else:
            done.send()
        return result, exc_info

    def _stopped_within(self, seconds):
        """Wait up to `seconds` (at least one switch to the hub); whether `stop()` came."""
        deadline = time.monotonic() + max(seconds, 0)
        while not self.should_stop.ready():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.should_stop.wait(left)
        return True


periodic = Periodic.decorator


class Nudge(DependencyProvider):
    """For a periodic task that has work only after other entrypoints did something (audit's
    chainer, after the lanes journal events): they `nudge()` once committed, and the task's
    `due()` is true when nudged since it last ran, or `backstop` seconds after it last ran (work
    another replica did). The task then costs nothing when there is nothing to do."""

    def __init__(self, backstop=1.0):
        self.backstop = backstop

    def setup(self):
        self._nudged, self._last = True, float("-inf")

    def get_dependency(self, worker_ctx):
        return self

    def nudge(self):
        self._nudged = True

    def due(self):
        now = time.monotonic()
        if self._nudged or now - self._last >= self.backstop:
            self._nudged, self._last = False, now  # a nudge while the task runs makes it due again
            return True
        return False
