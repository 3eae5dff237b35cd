"""Loading and saving audit's aggregates and journal; the unit of work that groups them."""
from sqlalchemy import insert, select, update

from spc.shared.clock import utcnow
from spc.shared.errors import NotFound
from spc.shared.persistence import UnitOfWork, first, first_or_create, insert_unless_taken

from . import orm
from .domain import journal
from .domain.model import OPEN, Compliance, Finding


class AuditRepository:
    def __init__(self, session):
        self.session = session

    def add(self, obj):
        self.session.add(obj)

    def compliance(self, service_id, for_update=False, create=False):
        query = select(Compliance).where(Compliance.service_id == service_id)
        if create:
            return first_or_create(self.session, query, lambda: Compliance(service_id), for_update)
        return first(self.session, query, for_update)

    def finding(self, finding_id, for_update=False):
        found = (first(self.session, select(Finding).where(Finding.id == finding_id), True)
                 if for_update else self.session.get(Finding, finding_id))
        if found is None:
            raise NotFound(f"no finding {finding_id}", {"finding_id": finding_id})
        return found

    def findings_of(self, service_id):
        return self.session.scalars(select(Finding).where(Finding.service_id == service_id)
                                    .order_by(Finding.created_at, Finding.id)).all()

    def standings(self, after, limit):
        c = orm.compliance
        rows = self.session.execute(
            select(c.c.service_id, c.c.known, c.c.registry_status, c.c.registry_version,
                   c.c.open_violations, c.c.audit_version)
            .where(c.c.service_id > after).order_by(c.c.service_id).limit(limit))
        return [{"service_id": r.service_id, "known": r.known, "status": r.registry_status,
                 "version": r.registry_version, "open_violations": r.open_violations,
                 "audit_version": r.audit_version} for r in rows]

    def overdue_minor_findings(self, now):
        """Locked, skipping those another replica is escalating (or resolving) right now: each
        overdue finding is escalated once, by one replica."""
        return self.session.scalars(select(Finding).where(
            Finding.status == OPEN, Finding.is_violation.is_(False),
            Finding.remediation_deadline <= now).order_by(Finding.id)
            .with_for_update(skip_locked=True)).all()


class Journal:
    """Appends entries under a lock on the chain's head row, so the chain never forks."""

    def __init__(self, session):
        self.session = session

    def _head(self):
        query = (select(orm.journal_head.c.seq, orm.journal_head.c.hash)
                 .where(orm.journal_head.c.id == 1).with_for_update())
        row = self.session.execute(query).first()
        if row is None:  # the first entry ever; two first entries at once: one inserts, one waits
            insert_unless_taken(self.session, lambda: self.session.execute(
                insert(orm.journal_head).values(id=1, seq=0, hash=journal.GENESIS)))
            row = self.session.execute(query).first()
        return row.seq, row.hash

    def append(self, event_id, event_type, body):
        seq, head = self._head()
        entry = journal.next_entry(seq, head, str(event_id), event_type, body)
        self.session.execute(insert(orm.journal).values(
            seq=entry.seq, event_id=entry.event_id, event_type=entry.event_type, body=entry.body,
            prev_hash=entry.prev_hash, hash=entry.hash, recorded_at=utcnow()))
        self.session.execute(update(orm.journal_head).where(orm.journal_head.c.id == 1)
                             .values(seq=entry.seq, hash=entry.hash))
        return entry

    def entries(self, batch=1000):
        last = 0
        while True:
            rows = self.session.execute(select(orm.journal).where(orm.journal.c.seq > last)
                                        .order_by(orm.journal.c.seq).limit(batch)).all()
            for row in rows:
                yield journal.Entry(row.seq, row.event_id, row.event_type, row.body, row.prev_hash, row.hash)
            if len(rows) < batch:
                return
            last = rows[-1].seq


class AuditUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.audit = AuditRepository(session)
        self.journal = Journal(session)

    def standings(self, after, limit):
        return self.audit.standings(after, limit)
