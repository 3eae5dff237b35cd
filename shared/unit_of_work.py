"""The unit of work, abstract: one business transaction over a service's repositories, its
inbox and its outbox. Free of SQL and nameko: `shared/persistence.py` has the SQLAlchemy one,
`tests/unit/fakes.py` in-memory ones, and the use cases (services/*/handlers.py) cannot tell.

At commit the unit of work collects the events recorded by every aggregate its repositories
handed out (`Repository.seen`) and writes them to the outbox in the same transaction: no use case
emits an event by hand, so none can forget one (cosmicpython's `collect_new_events`).
"""
from dataclasses import asdict

from . import envelope
from .domain import Aggregate


class Repository:
    """Base of a repository: remembers the aggregates it handed out in this transaction."""

    def __init__(self):
        self.seen = {}

    def _seen(self, obj):
        """Track `obj` (if an aggregate) and return it: `return self._seen(found)`."""
        if isinstance(obj, Aggregate):
            self.seen.setdefault(id(obj), obj)
        return obj

    def _seen_all(self, objs):
        return [self._seen(obj) for obj in objs]


class AbstractUnitOfWork:
    """`with uow: ...; uow.commit()`; leaving without commit rolls back. Subclasses open the
    transaction in `_begin` (attaching `inbox`, `outbox` and their repositories) and implement
    `_commit`, `rollback`, `flush` and `_end`."""

    producer = ""
    correlation_id = None  # events written by this transaction carry it
    urgent = False  # urgent work (violations, standings) goes first where writers queue (SQLite)

    def __enter__(self):
        self._begin()
        self._repositories_seen = [r for r in vars(self).values() if isinstance(r, Repository)]
        for repository in self._repositories_seen:
            repository.seen = {}
        return self

    def __exit__(self, *exc):
        self._end()

    def collect_new_events(self):
        """Write the events the aggregates recorded since the last collection to the outbox;
        returns them as wire events (with their `event_id`)."""
        written = []
        for repository in self._repositories_seen:
            for aggregate in list(repository.seen.values()):
                for domain_event in aggregate.pull_events():
                    event = envelope.new_event(domain_event.event_type, asdict(domain_event),
                                               self.producer, correlation_id=self.correlation_id)
                    self.outbox.add(event)
                    written.append(event)
        return written

    def commit(self):
        self.collect_new_events()
        self._commit()

    def _begin(self):
        raise NotImplementedError

    def _end(self):
        raise NotImplementedError

    def _commit(self):
        raise NotImplementedError

    def rollback(self):
        raise NotImplementedError

    def flush(self):
        """Make the changes so far visible to this transaction's own queries."""
        raise NotImplementedError
