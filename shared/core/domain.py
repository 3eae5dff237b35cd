"""What every aggregate shares, free of nameko and SQL: it records the domain events its changes
cause; the unit of work that loaded it collects them at commit (shared/core/unit_of_work.py)."""

import uuid
from typing import Any, Protocol, Sequence


class DomainEvent(Protocol):
    """What an aggregate records: anything that names its wire type."""

    @property
    def event_type(self) -> str: ...


class Aggregate:
    """Base of an aggregate root. ORM-loaded objects skip `__init__`, so the pending events live
    in the instance dict, created on first use. Each event gets its id when it is recorded (the
    id it will carry on the wire): what must name it in the same transaction (a payment order
    kept with its event's id) reads it with `pending_id`, without collecting anything."""

    def _record(self, event: DomainEvent) -> str:
        """Record `event`; returns its id."""
        event_id = str(uuid.uuid4())
        self.__dict__.setdefault("_events", []).append((event_id, event))
        return event_id

    def pending_id(self, event_type: str) -> str | None:
        """The id of the last event of `event_type` recorded and not yet pulled (None if none)."""
        recorded: Sequence[tuple[str, DomainEvent]] = self.__dict__.get("_events", ())
        found = [event_id for event_id, event in recorded if event.event_type == event_type]
        return found[-1] if found else None

    def pull_recorded(self) -> list[tuple[str, Any]]:
        """(id, event) of each event recorded since the last pull, oldest first (and forget them)."""
        recorded: list[tuple[str, Any]] = self.__dict__.pop("_events", [])
        return recorded

    def pull_events(self) -> list[Any]:
        """The events recorded since the last pull, oldest first (and forget them)."""
        return [event for _, event in self.pull_recorded()]


class Change:
    """Base of a domain event that stands for a family of wire types: `family` + `change` (the
    registry's `StandingChanged(change="approved", ...)` is `registry.service_approved`)."""

    family = ""
    change: str  # (each subclass, a dataclass, has it as a field)

    @property
    def event_type(self) -> str:
        return self.family + self.change
