"""Failpoints: named places in the messaging path where a fault can be injected on purpose, so
the fault suite (tests/faults) can prove what happens when a process dies or stalls exactly there.

Off unless `SPC_FAILPOINTS` is set (never set it in production). Format, comma-separated:

    name=action[:seconds][@times]

actions: `exit` (the process dies at once, like SIGKILL: no cleanup, no ack), `sleep:S` (a
cooperative pause), `hog:S` (holds the CPU for S seconds without ever yielding to eventlet, so the
AMQP heartbeats stop), `raise` (a RuntimeError). `@N` fires only the first N times (default: every
time). Example: `SPC_FAILPOINTS=consumer.after_commit=hog:8@1`.

The places: `consumer.after_commit` (an event's effect is committed, its ack not yet sent),
`relay.after_publish` (an outbox batch is confirmed by the broker, not yet marked sent),
`relay.before_confirms` (an outbox batch is sent, its confirms not yet read),
`handler.before_commit` (inside the consumer's transaction, before it commits),
`consumer.received` (a valid message is about to be handled), `http.before_answer` (a staff request
with an Idempotency-Key has made its change, not yet committed with its answer). A point may be narrowed to one
queue: `consumer.received.audit.events=sleep:5@2`.
"""

import os
import time

import eventlet

ENV = "SPC_FAILPOINTS"


def parse(spec):
    points = {}
    for item in filter(None, (part.strip() for part in (spec or "").split(","))):
        name, _, action = item.partition("=")
        times = None
        if "@" in action:
            action, _, n = action.partition("@")
            times = int(n)
        kind, _, arg = action.partition(":")
        if kind not in ("exit", "sleep", "hog", "raise"):
            raise ValueError(f"{ENV}: unknown action {kind!r} in {item!r}")
        points[name.strip()] = [kind, float(arg or 0), times]
    return points


_points = parse(os.environ.get(ENV))


def configure(spec):
    """Replace the failpoints of this process (tests that run services in-process)."""
    global _points
    _points = parse(spec)


def _point(name, scope):
    point = _points.get(name)
    if point is None and scope is not None:
        point = _points.get(f"{name}.{scope}")
    return point


def armed(name, scope=None):
    """Whether a fault is still to fire at `name` (or `name.scope`)."""
    point = _points and _point(name, scope)
    return bool(point) and (point[2] is None or point[2] > 0)


def fire(name, scope=None):
    """Run the fault registered under `name` (or `name.scope`), if any: a dictionary lookup when
    none is."""
    if not _points:
        return
    point = _point(name, scope)
    if point is None:
        return
    kind, seconds, times = point
    if times is not None:
        if times <= 0:
            return
        point[2] = times - 1
    if kind == "exit":
        os._exit(137)
    elif kind == "sleep":
        eventlet.sleep(seconds)
    elif kind == "hog":
        end = time.monotonic() + seconds
        while time.monotonic() < end:  # never yields: no greenthread, no heartbeat runs
            pass
    elif kind == "raise":
        raise RuntimeError(f"failpoint {name}")
