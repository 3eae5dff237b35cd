"""What every aggregate shares, free of nameko and SQL: it records the domain events its changes
cause; the unit of work that loaded it collects them at commit (shared/unit_of_work.py)."""
import uuid


class Aggregate:
    """Base of an aggregate root. ORM-loaded objects skip `__init__`, so the pending events live
    in the instance dict, created on first use. Each event gets its id when it is recorded (the
    id it will carry on the wire): what must name it in the same transaction (a payment order
    kept with its event's id) reads it with `pending_id`, without collecting anything."""

    def _record(self, event):
        """Record `event`; returns its id."""
        event_id = str(uuid.uuid4())
        self.__dict__.setdefault("_events", []).append((event_id, event))
        return event_id

    def pending_id(self, event_type):
        """The id of the last event of `event_type` recorded and not yet pulled (None if none)."""
        found = [event_id for event_id, event in self.__dict__.get("_events", ()) if event.event_type == event_type]
        return found[-1] if found else None

    def pull_recorded(self):
        """(id, event) of each event recorded since the last pull, oldest first (and forget them)."""
        return self.__dict__.pop("_events", [])

    def pull_events(self):
        """The events recorded since the last pull, oldest first (and forget them)."""
        return [event for _, event in self.pull_recorded()]


class Change:
    """Base of a domain event that stands for a family of wire types: `family` + `change` (the
    registry's `StandingChanged("approved", ...)` is `registry.service_approved`)."""

    family = ""

    @property
    def event_type(self):
        return self.family + self.change
