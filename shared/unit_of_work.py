"""The unit of work, abstract: one business transaction over a service's repositories, its
inbox and its outbox. Free of SQL and nameko: `shared/persistence.py` has the SQLAlchemy one,
`tests/unit/fakes.py` in-memory ones, and the use cases (services/*/handlers.py) cannot tell.

At commit the unit of work collects the events recorded by every aggregate its repositories
handed out (`Repository.seen`) and writes them to the outbox in the same transaction: no use case
emits an event by hand, so none can forget one (cosmicpython's `collect_new_events`). The one
exception is `relay_inbound`: a service relaying what an outside system would publish.
"""
from dataclasses import asdict

from . import envelope
from .domain import Aggregate
from .events import catalogue


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
    actor = None  # and the staff member whose request caused them (role/label)
    call = None  # the staff request this transaction serves: its actions are logged (shared/staff.py)
    urgent = False  # urgent work (violations, standings) goes first where writers queue (SQLite)

    def __enter__(self):
        self._begin()
        self._repositories_seen = [r for r in vars(self).values() if isinstance(r, Repository)]
        for repository in self._repositories_seen:
            repository.seen = {}
        return self

    def __exit__(self, *exc):
        self._end()

    def serve(self, call):
        """This transaction serves a staff request (shared/http.Call): its events carry the
        caller and the correlation id, each is logged in `staff_actions`, and an idempotency key
        is claimed at commit."""
        self.call, self.actor, self.correlation_id = call, call.by or None, call.correlation_id
        return self

    def collect_new_events(self):
        """Write the events the aggregates recorded since the last collection to the outbox;
        returns them as wire events (with their `event_id`)."""
        written = []
        for repository in self._repositories_seen:
            for aggregate in list(repository.seen.values()):
                for event_id, domain_event in aggregate.pull_recorded():
                    event = envelope.new_event(domain_event.event_type, asdict(domain_event),
                                               self.producer, correlation_id=self.correlation_id,
                                               actor=self.actor, event_id=event_id)
                    if self.call is not None and self.actor:
                        self.staff_log.add(event, self.actor)
                    written.append(event)
        self.outbox.add_many(written)  # one statement for them all, in the order they were recorded
        return written

    def relay_inbound(self, event_type, payload):
        """Write an inbound event (contract §2) to the outbox for `spc.inbound`, in this
        transaction: the service relays what an outside system would publish (a France Services
        agent relaying a visitor's report), and its consumers take it as they take any other. It
        is not a change of this service's state, so no aggregate records it; it never goes to
        `spc.events`. Returns the wire event."""
        if not catalogue.is_inbound(event_type):
            raise ValueError(f"{event_type} is not an inbound event")
        event = envelope.new_event(event_type, payload, self.producer, correlation_id=self.correlation_id,
                                   actor=self.actor)
        self.outbox.add(event, exchange=catalogue.INBOUND_EXCHANGE)
        return event

    def commit(self):
        self.collect_new_events()
        if self.call is not None and self.call.idempotency is not None:
            self._claim(self.call.by, self.call.idempotency)
        self._commit()

    def _claim(self, actor, idempotency):
        """Record the idempotency key in this transaction (a copy of the request committing at
        the same time fails)."""
        raise NotImplementedError

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
