"""What every aggregate shares, free of nameko and SQL: it records the domain events its changes
cause; the unit of work that loaded it collects them at commit (shared/unit_of_work.py)."""


class Aggregate:
    """Base of an aggregate root. ORM-loaded objects skip `__init__`, so the pending events live
    in the instance dict, created on first use."""

    def _record(self, event):
        self.__dict__.setdefault("_events", []).append(event)

    def pull_events(self):
        """The events recorded since the last pull, oldest first (and forget them)."""
        return self.__dict__.pop("_events", [])


class Change:
    """Base of a domain event that stands for a family of wire types: `family` + `change` (the
    registry's `StandingChanged("approved", ...)` is `registry.service_approved`)."""

    family = ""

    @property
    def event_type(self):
        return self.family + self.change
