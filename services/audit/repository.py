"""Loading and saving audit's aggregates; the unit of work that groups them with the reports
(report_store.py) and the journal (journal_store.py)."""
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, insert, select, update

from spc.shared.persistence import SqlRepository, UnitOfWork, first, insert_unless_taken
from spc.shared.staff import attach_staff_tables

from . import orm
from .domain.model import OPEN, Compliance, Finding, ParkedFact
from .exceptions import FindingNotFound
from .journal_store import Journal
from .report_store import ReportRepository


class AuditRepository(SqlRepository):
    def open_deadlines(self, until, service_id=None):
        return _open_deadlines(self.session, until, service_id)

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

    def threshold_finding_since(self, service_id, category, since):
        """Whether the report threshold opened a finding on this service and category since `since`."""
        return self.session.scalar(select(Finding.id).where(
            Finding.service_id == service_id, Finding.threshold_category == category,
            Finding.created_at >= since).limit(1)) is not None

    def keep_pact_version(self, service_id, pact_version, commitments, registry_version, at):
        """Remember a pact version heard of (its commitments filled in if first heard without)."""
        t = orm.pact_versions
        key = (t.c.service_id == service_id, t.c.pact_version == pact_version)
        kept = self.session.execute(select(t.c.commitments).where(*key)).first()
        if kept is None:
            insert_unless_taken(self.session, lambda: self.session.execute(insert(t).values(
                service_id=service_id, pact_version=pact_version, commitments=commitments,
                registry_version=registry_version, seen_at=at)))
        elif not kept.commitments and commitments:
            self.session.execute(update(t).where(*key).values(commitments=commitments))

    def pact_versions(self, service_id):
        t = orm.pact_versions
        return [dict(r._mapping) for r in self.session.execute(
            select(t.c.pact_version, t.c.commitments, t.c.registry_version, t.c.seen_at)
            .where(t.c.service_id == service_id).order_by(t.c.pact_version))]

    def overdue_minor_findings(self, now):
        """Locked, skipping those another replica is escalating (or resolving) right now: each
        overdue finding is escalated once, by one replica."""
        return self.session.scalars(select(Finding).where(
            Finding.status == OPEN, Finding.is_violation.is_(False),
            Finding.remediation_deadline <= now).order_by(Finding.id)
            .with_for_update(skip_locked=True)).all()


def _open_deadlines(session, until, service_id=None):
    """Open findings whose remediation deadline falls on or before `until` (a service's only)."""
    query = select(Finding).where(Finding.status == OPEN, Finding.remediation_deadline.is_not(None),
                                  Finding.remediation_deadline < datetime.combine(until + timedelta(days=1), time()))
    if service_id is not None:
        query = query.where(Finding.service_id == service_id)
    return session.scalars(query.order_by(Finding.remediation_deadline, Finding.id)).all()


class AuditUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        attach_staff_tables(self, session)  # shared/edge.py's
        self.audit = AuditRepository(session)
        self.reports = ReportRepository(session)
        self.journal = Journal(session)

