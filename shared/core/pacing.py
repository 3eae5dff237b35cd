"""Spacing requests to an outside API within its published limit (API Recherche d'entreprises:
7 a second; Démarches Simplifiées: 400 a minute), shared by the greenthreads of one process."""

import threading
import time
from typing import Callable


class Pacer:
    """`wait()` returns when the next request may go: at least `interval` seconds after the one
    before, the callers queued in turn."""

    def __init__(
        self, interval: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.interval, self.clock, self.sleep = interval, clock, sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)
