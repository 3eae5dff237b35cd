"""Loading and saving audit's aggregates and journal; the unit of work that groups them."""
from sqlalchemy import delete, func, insert, select, update

from spc.shared import envelope
from spc.shared.clock import utcnow
from spc.shared.persistence import SqlRepository, UnitOfWork, first, insert_unless_taken

from . import orm
from .domain import journal
from .domain.model import OPEN, Compliance, Finding, ParkedFact
from .exceptions import FindingNotFound


class AuditRepository(SqlRepository):
    def compliance(self, service_id, for_update=False, create=False):
        query = select(Compliance).where(Compliance.service_id == service_id)
        return self._one(query, for_update, (lambda: Compliance(service_id)) if create else None)

    def finding(self, finding_id, for_update=False):
        found = (first(self.session, select(Finding).where(Finding.id == finding_id), True)
                 if for_update else self.session.get(Finding, finding_id))
        if found is None:
            raise FindingNotFound(f"no finding {finding_id}", {"finding_id": finding_id})
        return found

    def findings_of(self, service_id):
        return self.session.scalars(select(Finding).where(Finding.service_id == service_id)
                                    .order_by(Finding.created_at, Finding.id)).all()

    def known_services(self, service_ids):
        """Those of `service_ids` audit has heard of from the registry (no lock: known stays known)."""
        c = orm.compliance
        return {r[0] for r in self.session.execute(select(c.c.service_id).where(
            c.c.service_id.in_(list(service_ids)), c.c.known.is_(True)))}

    def add_reports(self, reports):
        """Store many citizen reports in one statement."""
        if reports:
            self.session.execute(insert(orm.reports).values([
                {"id": r.id, "service_id": r.service_id, "category": r.category, "text": r.text,
                 "counter_id": r.counter_id, "created_at": r.created_at,
                 "source_event_id": r.source_event_id, "status": r.status} for r in reports]))

    def park(self, fact: ParkedFact):
        insert_unless_taken(self.session, lambda: self.session.add(fact))

    def parked_for(self, service_id):
        """Facts waiting for this service, oldest first (locked: each is applied once)."""
        return self.session.scalars(select(ParkedFact).where(ParkedFact.service_id == service_id)
                                    .order_by(ParkedFact.parked_at, ParkedFact.event_id)
                                    .with_for_update()).all()

    def parked_since(self, before, limit=100):
        """Facts parked before `before`, skipping those another replica is handling."""
        return self.session.scalars(select(ParkedFact).where(ParkedFact.parked_at <= before)
                                    .order_by(ParkedFact.parked_at).limit(limit)
                                    .with_for_update(skip_locked=True)).all()

    def unpark(self, fact):
        self.session.delete(fact)

    def forget_if_unknown(self, service_id):
        """Drop the placeholder of a service that never appeared (and has nothing parked)."""
        if self.session.scalar(select(ParkedFact.event_id).where(ParkedFact.service_id == service_id)) is None:
            self.session.execute(delete(orm.compliance).where(
                orm.compliance.c.service_id == service_id, orm.compliance.c.known.is_(False)))

    def findings_by_status(self):
        return self._count_by_status(orm.findings)

    def parked_count(self):
        return self.session.scalar(select(func.count()).select_from(orm.parked_facts))

    def standings(self, after, limit):
        c = orm.compliance
        rows = self.session.execute(
            select(c.c.service_id, c.c.known, c.c.registry_status, c.c.registry_version,
                   c.c.open_violations, c.c.audit_version)
            .where(c.c.service_id > after, c.c.known.is_(True))
            .order_by(c.c.service_id).limit(limit))
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
    """The hash-chained journal. Lanes `record` received events into `journal_pending` without
    touching the chain; `chain` appends what is pending, in batches, under a lock on the chain's
    head row, so the chain never forks and no lane waits for it."""

    def __init__(self, session):
        self.session = session

    # -- the journal lane's inbox: an event is journaled once, whichever way it came -----------
    def seen_many(self, event_ids):
        ids = [str(i) for i in event_ids]
        found = set()
        for table in (orm.journal_pending, orm.journal):
            found |= {r[0] for r in self.session.execute(
                select(table.c.event_id).where(table.c.event_id.in_(ids)))}
        return found

    def record_many(self, events):
        if events:
            now = utcnow()
            self.session.execute(insert(orm.journal_pending).values([
                {"event_id": str(e.event_id), "event_type": e.event_type,
                 "body": journal.canonical(envelope.to_dict(e)), "received_at": now} for e in events]))

    def record_new(self, events):
        """Journal events received another way (inbound facts), those not journaled already."""
        seen = self.seen_many([e.event_id for e in events])
        fresh = [e for e in events if str(e.event_id) not in seen]
        if len(fresh) == 1:  # alone, a clash on its id (a replayed id) must not fail the rest
            insert_unless_taken(self.session, lambda: self.record_many(fresh))
        else:  # a clash fails the batch, which the consumer then applies one event at a time
            self.record_many(fresh)

    # -- the chain ------------------------------------------------------------------------------
    def _head(self):
        query = (select(orm.journal_head.c.seq, orm.journal_head.c.hash)
                 .where(orm.journal_head.c.id == 1).with_for_update())
        row = self.session.execute(query).first()
        if row is None:  # the first entry ever; two first entries at once: one inserts, one waits
            insert_unless_taken(self.session, lambda: self.session.execute(
                insert(orm.journal_head).values(id=1, seq=0, hash=journal.GENESIS)))
            row = self.session.execute(query).first()
        return row.seq, row.hash

    def has_pending(self):
        return self.session.scalar(select(orm.journal_pending.c.id).limit(1)) is not None

    def chain(self, limit=500):
        """Append up to `limit` pending events to the chain, oldest first; returns how many."""
        seq, head = self._head()
        p = orm.journal_pending
        rows = self.session.execute(select(p.c.id, p.c.event_id, p.c.event_type, p.c.body)
                                    .order_by(p.c.id).limit(limit)).all()
        if not rows:
            return 0
        entries, now = [], utcnow()
        for row in rows:
            entry = journal.next_entry(seq, head, row.event_id, row.event_type, row.body)
            seq, head = entry.seq, entry.hash
            entries.append({"seq": entry.seq, "event_id": entry.event_id, "event_type": entry.event_type,
                            "body": entry.body, "prev_hash": entry.prev_hash, "hash": entry.hash,
                            "recorded_at": now})
        self.session.execute(insert(orm.journal).values(entries))
        self.session.execute(delete(p).where(p.c.id.in_([r.id for r in rows])))
        self.session.execute(update(orm.journal_head).where(orm.journal_head.c.id == 1)
                             .values(seq=seq, hash=head))
        return len(rows)

    def length(self):
        return self.session.execute(select(orm.journal_head.c.seq)).scalar() or 0

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

