"""`@periodic(interval)`: nameko's timer entrypoint, made robust to stray wakeups.

nameko's Timer waits for its worker with `worker_complete.wait()` then `reset()`. Under eventlet
a greenthread can be switched into by something other than the event it waits on (seen here:
audit's 0.2 s journal timer, under load, woke without its worker done); `reset()` then fails its
assertion, the timer's managed thread dies and nameko kills the whole container (its HTTP server
with it). This loop re-checks what it waits for, with a fresh event for each tick."""
import time

from eventlet.event import Event
from nameko.timer import Timer


class Periodic(Timer):
    def _run(self):
        started = time.monotonic()
        for tick in range(0 if self.eager else 1, 2 ** 62):
            if self._stopped_within(started + tick * self.interval - time.monotonic()):
                return
            done = self.worker_complete = Event()  # handle_result sends it when the worker ends
            self.handle_timer_tick()
            while not done.ready():  # a wakeup that is not the worker's end waits again
                done.wait()

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
