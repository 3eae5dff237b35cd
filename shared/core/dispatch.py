"""Which use case takes which event: each queue a service consumes is declared once (`Consumes`,
in the service's handlers module, listed in its ServiceSpec), and every event goes through the one
`dispatch`. Free of nameko and SQL: the entrypoint is built from the declaration in
shared/messaging/consumer.py (entrypoint_for), the service class gets it from shared/service/ops.SpcService."""

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import Any, Callable, Iterable, Mapping, Protocol, TypeVar

UseCase = TypeVar("UseCase", bound=Callable[..., Any])
URGENT, BULK = "urgent", "bulk"  # the lanes: each has its own workers (shared/messaging/consumer.Lanes)


class BoundQueue(Protocol):
    """A consumer queue as shared/messaging/topology.py declares it: a kombu Queue, with the event types the
    catalogue routes there (None: whatever its bindings bring)."""

    name: str
    event_types: frozenset[str] | None


class HandlersDoNotMatchBindings(Exception):
    """A consumer's handler table and its queue's bindings (from the event catalogue) differ."""


def check_handlers(queue: BoundQueue, handlers: Mapping[str, Callable[..., Any]] | None) -> None:
    """Every type the catalogue routes to `queue` has a handler, and nothing else has one: a
    mismatch fails when the declaration is made (at start-up, and in tests/unit), never as a
    message retried and dead-lettered at run time."""
    if handlers is None or queue.event_types is None:
        return
    missing, extra = queue.event_types - set(handlers), set(handlers) - queue.event_types
    if missing or extra:
        raise HandlersDoNotMatchBindings(
            f"{queue.name}: routed here without a handler: {sorted(missing)}; handled but not "
            f"routed here: {sorted(extra)} (see `queues=` in shared/core/events)"
        )


def batched(use_case: UseCase) -> UseCase:
    """Mark a use case that takes a run of events of its type at once, `(uow, events)`, rather
    than one event, `(uow, event)`: a lane's batch is applied in one go (audit's reports)."""
    use_case.batched = True  # type: ignore[attr-defined]  # a mark read with getattr (dispatch)
    return use_case


def dispatch(handlers: Mapping[str, Callable[..., Any]], uow: Any, events: Iterable[Any]) -> None:
    """Each run of consecutive events of one type to the use case `handlers` names for it, in
    order: all at once if it is `batched`, else one by one."""
    for event_type, run in groupby(events, key=attrgetter("event_type")):
        use_case = handlers[event_type]
        if getattr(use_case, "batched", False):
            use_case(uow, list(run))
        else:
            for event in run:
                use_case(uow, event)


@dataclass(frozen=True, eq=False)
class Consumes:
    """What a service takes from one queue: the use case of each event type the catalogue routes
    there (checked against the bindings), its lane, how many events a worker takes at once, and
    the inbox that records them (`uow.<inbox>`). `handlers=None`: whatever the queue's bindings
    bring, with no use case but the inbox's record (audit's journal lane: its inbox is the journal)."""

    queue: BoundQueue
    handlers: Mapping[str, Callable[..., Any]] | None
    lane: str = URGENT
    batch: int = 1
    inbox: str = "inbox"

    def __post_init__(self) -> None:
        check_handlers(self.queue, self.handlers)

    def apply(self, uow: Any, events: Iterable[Any]) -> None:
        """The use cases of `events` (claimed in the inbox already), in the caller's transaction."""
        if self.handlers is not None:
            dispatch(self.handlers, uow, events)

    @property
    def entrypoint(self) -> str:
        """The name of the service's method that consumes the queue: `consume_<queue>`."""
        return "consume_" + self.queue.name.replace(".", "_").replace("-", "_")
