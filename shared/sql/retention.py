"""What a service keeps, and for how long (issue 27): the tables that only grow are pruned, in
short batches, by a periodic task of every service (`SpcService.prune`, every 10 minutes).

| table | kept | setting (default) | why that long |
|---|---|---|---|
| `processed_events` (the inbox) | an applied event's id, from when it was applied | `SPC_INBOX_RETENTION_DAYS` (30) | a copy arriving later is recognised: broker redeliveries come within minutes, a relay republishing what it could not mark within seconds, an outside publisher's retry of an unconfirmed publish within its own retry horizon. It must exceed the longest of those and the longest a queue may hold a backlog |
| `outbox` rows sent | a published event, from when the broker confirmed it | `SPC_OUTBOX_RETENTION_DAYS` (7) | for an operator's inquiries; the audit journal keeps every event for good. Unsent rows are never pruned |
| `idempotency_keys` | a staff request's key and its answer, from the request | `SPC_IDEMPOTENCY_RETENTION_HOURS` (24) | a retry within that time is answered as the first; after it, the same key is a new request |
| `staff_actions` (resources' `history`) | who did what, when | `SPC_STAFF_HISTORY_DAYS` (3650) | public money: ten years, like the accounting records it explains |

Audit's journal (its hash chain) is never pruned: it is the record. Each setting takes a number
(fractions allowed) above 0."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, delete, select, tuple_

from ..core.clock import utcnow
from ..core.settings import SettingError, positive_number

log = logging.getLogger(__name__)

SETTINGS = {
    "inbox_days": ("SPC_INBOX_RETENTION_DAYS", 30.0),
    "outbox_days": ("SPC_OUTBOX_RETENTION_DAYS", 7.0),
    "idempotency_hours": ("SPC_IDEMPOTENCY_RETENTION_HOURS", 24.0),
    "staff_history_days": ("SPC_STAFF_HISTORY_DAYS", 3650.0),
}
BATCH = 5000


class RetentionError(SettingError):
    pass


@dataclass(frozen=True)
class Retention:
    inbox_days: float = SETTINGS["inbox_days"][1]
    outbox_days: float = SETTINGS["outbox_days"][1]
    idempotency_hours: float = SETTINGS["idempotency_hours"][1]
    staff_history_days: float = SETTINGS["staff_history_days"][1]

    @classmethod
    def from_environ(cls, environ):
        values = {}
        for field, (variable, default) in SETTINGS.items():
            values[field] = positive_number(environ, variable, default, error=RetentionError)
        return cls(**values)

    def cutoffs(self, now):
        return {
            "inbox": _before(now, days=self.inbox_days),
            "outbox": _before(now, days=self.outbox_days),
            "idempotency": _before(now, hours=self.idempotency_hours),
            "staff_history": _before(now, days=self.staff_history_days),
        }


def _before(now, **span):
    """`now` less `span`; a span longer than the calendar reaches back (an operator's "keep it
    forever": SPC_STAFF_HISTORY_DAYS=1e9) is its first day: nothing is that old, nothing goes."""
    try:
        return now - timedelta(**span)
    except OverflowError:
        return now.replace(year=1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def prunable(unit_of_work):
    """(name, table, the column that ages, the rows' key columns, an extra condition) of a
    service's unit of work class."""
    orm = unit_of_work.orm
    out, keys, staff = orm.outbox, orm.idempotency_keys, orm.staff_actions
    inbox = orm.processed_events
    return [
        ("inbox", inbox, inbox.c.processed_at, [inbox.c.event_id], None),
        ("outbox", out, out.c.published_at, [out.c.id], out.c.published_at.isnot(None)),
        ("idempotency", keys, keys.c.created_at, [keys.c.actor, keys.c.key], None),
        ("staff_history", staff, staff.c.at, [staff.c.id], None),
    ]


def prune(transaction, unit_of_work, policy, now=None, batch=BATCH):
    """Delete what `policy` no longer keeps, `batch` rows a transaction (`transaction()`: a
    context manager giving a connection in a transaction). Returns {table name: rows deleted}."""
    cutoffs = policy.cutoffs(now or utcnow())
    deleted = {}
    for name, table, column, key, extra in prunable(unit_of_work):
        condition = column < cutoffs[name] if extra is None else and_(extra, column < cutoffs[name])
        oldest = select(*key).where(condition).limit(batch)
        target = key[0].in_(oldest.scalar_subquery()) if len(key) == 1 else tuple_(*key).in_(oldest)
        total = 0
        while True:
            with transaction() as conn:
                n = conn.execute(delete(table).where(target)).rowcount
            total += n
            if n < batch:
                break
        deleted[table.name] = total
    return deleted
