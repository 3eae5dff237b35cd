"""The unit of work, abstract: one business transaction over a service's repositories, its
inbox and its outbox. Free of SQL and nameko: `shared/sql/persistence.py` has the SQLAlchemy one,
`tests/unit/fakes.py` in-memory ones, and the use cases (services/*/handlers.py) cannot tell.

At commit the unit of work collects the events recorded by every aggregate its repositories
handed out (`Repository.seen`) and writes them to the outbox in the same transaction: no use case
emits an event by hand, so none can forget one (cosmicpython's `collect_new_events`). The one
exception is `relay_inbound`: a service relaying what an outside system would publish.
"""

from dataclasses import asdict
from typing import Any, Iterable, Protocol, Self, Sequence

from . import envelope
from .domain import Aggregate
from .envelope import Event
from .events import catalogue


class Outbox(Protocol):
    """Where the transaction's events are written (shared/sql/outbox.py's OutboxWriter)."""

    def add(self, event: Event, exchange: str | None = None) -> None: ...

    def add_many(self, events: Sequence[Event], exchange: str | None = None) -> None: ...


class Participant(Protocol):
    """What joins a unit of work's transaction (`AbstractUnitOfWork.join`)."""

    def collected(self, uow: "AbstractUnitOfWork", events: list[Event]) -> None: ...

    def committing(self, uow: "AbstractUnitOfWork") -> None: ...


class Repository:
    """Base of a repository: remembers the aggregates it handed out in this transaction."""

    def __init__(self) -> None:
        self.seen: dict[int, Aggregate] = {}

    def _seen(self, obj: Any) -> Any:
        """Track `obj` (if an aggregate) and return it: `return self._seen(found)`."""
        if isinstance(obj, Aggregate):
            self.seen.setdefault(id(obj), obj)
        return obj

    def _seen_all(self, objs: Iterable[Any]) -> list[Any]:
        return [self._seen(obj) for obj in objs]


class AbstractUnitOfWork:
    """`with uow: ...; uow.commit()`; leaving without commit rolls back. Subclasses open the
    transaction in `_begin` (attaching `inbox`, `outbox` and their repositories) and implement
    `_commit`, `rollback`, `flush` and `_end`.

    One extension point, for what must commit with the change though the use case does not know
    of it (shared/web/edge.py is one): a participant `join`s the unit of work, sees the events each
    collection wrote and is called before each commit, inside the transaction; there it may
    `hold` the transaction open past `commit()`, to end it later with `release`."""

    producer = ""
    outbox: Outbox  # attached by `_begin`
    # the events' metadata (shared/core/envelope.py): every event this transaction writes carries them
    correlation_id: str | None = None
    actor: str | None = None  # and who caused them (`role/label`), or None
    urgent = False  # urgent work (violations, standings) goes first where writers queue (SQLite)
    participants: tuple[Participant, ...] = ()
    held = False

    def __enter__(self) -> Self:
        self._begin()
        self._repositories_seen = [r for r in vars(self).values() if isinstance(r, Repository)]
        for repository in self._repositories_seen:
            repository.seen = {}
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.held:  # a held transaction is ended by its holder (release)
            self._end()

    def join(self, participant: Participant) -> Self:
        """`participant.collected(uow, events)` is called with the events of each collection and
        `participant.committing(uow)` before each commit, both inside the transaction."""
        self.participants = (*self.participants, participant)
        return self

    def collect_new_events(self) -> list[Event]:
        """Write the events the aggregates recorded since the last collection to the outbox;
        returns them as wire events (with their `event_id`)."""
        written = []
        for repository in self._repositories_seen:
            for aggregate in list(repository.seen.values()):
                for event_id, domain_event in aggregate.pull_recorded():
                    written.append(
                        envelope.new_event(
                            domain_event.event_type,
                            asdict(domain_event),
                            self.producer,
                            correlation_id=self.correlation_id,
                            actor=self.actor,
                            event_id=event_id,
                        )
                    )
        self.outbox.add_many(written)  # one statement for them all, in the order they were recorded
        for participant in self.participants:
            participant.collected(self, written)
        return written

    def relay_inbound(self, event_type: str, payload: dict[str, Any]) -> Event:
        """Write an inbound event (contract §2) to the outbox for `spc.inbound`, in this
        transaction: the service relays what an outside system would publish (a France Services
        agent relaying a visitor's report), and its consumers take it as they take any other. It
        is not a change of this service's state, so no aggregate records it; it never goes to
        `spc.events`. Returns the wire event."""
        if not catalogue.is_inbound(event_type):
            raise ValueError(f"{event_type} is not an inbound event")
        event = envelope.new_event(event_type, payload, self.producer, correlation_id=self.correlation_id, actor=self.actor)
        self.outbox.add(event, exchange=catalogue.INBOUND_EXCHANGE)
        return event

    def commit(self) -> None:
        self.collect_new_events()
        for participant in self.participants:
            participant.committing(self)
        if not self.held:
            self._commit()

    def hold(self) -> None:
        """(A participant, committing:) keep this transaction open past `commit()` and past the
        end of its `with` block, until `release`."""
        self.held = True

    def release(self, commit: bool) -> None:
        """End a held transaction: commit it (with what was written since), or roll it back."""
        try:
            if commit:
                self._commit()
        finally:
            self.held = False
            self._end()

    def _begin(self) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        """Make the changes so far visible to this transaction's own queries."""
        raise NotImplementedError
