"""Loading and saving audit's aggregates: its findings and compliance rows, the hash-chained
journal (its rules are the domain's: domain/journal.py), the citizen reports; and the unit of work
that groups them."""

from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, insert, select, update

from spc.shared.core import envelope
from spc.shared.core.clock import utcnow
from spc.shared.core.unit_of_work import Repository
from spc.shared.sql.bulk import among, insert_new, insert_rows
from spc.shared.sql.persistence import SqlRepository, UnitOfWork, first, insert_unless_taken
from spc.shared.sql.staff import attach_staff_tables

from . import orm
from .domain import journal
from .domain.model import OPEN, Compliance, Finding, ParkedFact
from .domain.reports import NEW, CitizenReport
from .exceptions import FindingNotFound, ReportNotFound


class AuditRepository(SqlRepository):
    def open_deadlines(self, until, service_id=None):
        return _open_deadlines(self.session, until, service_id)

    def compliance(self, service_id, for_update=False, create=False):
        query = select(Compliance).where(Compliance.service_id == service_id)
        return self._one(query, for_update, (lambda: Compliance(service_id)) if create else None)

    def finding(self, finding_id, for_update=False):
        found = (
            first(self.session, select(Finding).where(Finding.id == finding_id), True)
            if for_update
            else self.session.get(Finding, finding_id)
        )
        if found is None:
            raise FindingNotFound(f"no finding {finding_id}", {"finding_id": finding_id})
        return found

    def findings_of(self, service_id):
        return self.session.scalars(
            select(Finding).where(Finding.service_id == service_id).order_by(Finding.created_at, Finding.id)
        ).all()

    def known_services(self, service_ids):
        """Those of `service_ids` audit has heard of from the registry (no lock: known stays known)."""
        c = orm.compliance
        return {
            r[0]
            for r in self.session.execute(
                select(c.c.service_id).where(c.c.service_id.in_(list(service_ids)), c.c.known.is_(True))
            )
        }

    def park(self, fact: ParkedFact):
        insert_unless_taken(self.session, lambda: self.session.add(fact))

    def parked_for(self, service_id):
        """Facts waiting for this service, oldest first (locked: each is applied once)."""
        return self.session.scalars(
            select(ParkedFact)
            .where(ParkedFact.service_id == service_id)
            .order_by(ParkedFact.parked_at, ParkedFact.event_id)
            .with_for_update()
        ).all()

    def parked_since(self, before, limit=100):
        """Facts parked before `before`, skipping those another replica is handling."""
        return self.session.scalars(
            select(ParkedFact)
            .where(ParkedFact.parked_at <= before)
            .order_by(ParkedFact.parked_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()

    def unpark(self, fact):
        self.session.delete(fact)

    def forget_if_unknown(self, service_id):
        """Drop the placeholder of a service that never appeared (and has nothing parked)."""
        if self.session.scalar(select(ParkedFact.event_id).where(ParkedFact.service_id == service_id)) is None:
            self.session.execute(
                delete(orm.compliance).where(orm.compliance.c.service_id == service_id, orm.compliance.c.known.is_(False))
            )

    def findings_by_status(self):
        return self._count_by_status(orm.findings)

    def parked_count(self):
        return self.session.scalar(select(func.count()).select_from(orm.parked_facts))

    def standings(self, after, limit):
        c = orm.compliance
        rows = self.session.execute(
            select(c.c.service_id, c.c.known, c.c.registry_status, c.c.registry_version, c.c.open_violations, c.c.audit_version)
            .where(c.c.service_id > after, c.c.known.is_(True))
            .order_by(c.c.service_id)
            .limit(limit)
        )
        return [
            {
                "service_id": r.service_id,
                "known": r.known,
                "status": r.registry_status,
                "version": r.registry_version,
                "open_violations": r.open_violations,
                "audit_version": r.audit_version,
            }
            for r in rows
        ]

    def threshold_finding_since(self, service_id, category, since):
        """Whether the report threshold opened a finding on this service and category since `since`."""
        return (
            self.session.scalar(
                select(Finding.id)
                .where(Finding.service_id == service_id, Finding.threshold_category == category, Finding.created_at >= since)
                .limit(1)
            )
            is not None
        )

    def keep_pact_version(self, service_id, pact_version, commitments, registry_version, at):
        """Remember a pact version heard of (its commitments filled in if first heard without)."""
        t = orm.pact_versions
        key = (t.c.service_id == service_id, t.c.pact_version == pact_version)
        kept = self.session.execute(select(t.c.commitments).where(*key)).first()
        if kept is None:
            insert_unless_taken(
                self.session,
                lambda: self.session.execute(
                    insert(t).values(
                        service_id=service_id,
                        pact_version=pact_version,
                        commitments=commitments,
                        registry_version=registry_version,
                        seen_at=at,
                    )
                ),
            )
        elif not kept.commitments and commitments:
            self.session.execute(update(t).where(*key).values(commitments=commitments))

    def pact_versions(self, service_id):
        t = orm.pact_versions
        return [
            dict(r._mapping)
            for r in self.session.execute(
                select(t.c.pact_version, t.c.commitments, t.c.registry_version, t.c.seen_at)
                .where(t.c.service_id == service_id)
                .order_by(t.c.pact_version)
            )
        ]

    def overdue_minor_findings(self, now):
        """Locked, skipping those another replica is escalating (or resolving) right now: each
        overdue finding is escalated once, by one replica."""
        return self.session.scalars(
            select(Finding)
            .where(Finding.status == OPEN, Finding.is_violation.is_(False), Finding.remediation_deadline <= now)
            .order_by(Finding.id)
            .with_for_update(skip_locked=True)
        ).all()


def _open_deadlines(session, until, service_id=None):
    """Open findings whose remediation deadline falls on or before `until` (a service's only)."""
    query = select(Finding).where(
        Finding.status == OPEN,
        Finding.remediation_deadline.is_not(None),
        Finding.remediation_deadline < datetime.combine(until + timedelta(days=1), time()),
    )
    if service_id is not None:
        query = query.where(Finding.service_id == service_id)
    return session.scalars(query.order_by(Finding.remediation_deadline, Finding.id)).all()


# ---- the journal -------------------------------------------------------------------------------------


class Journal(Repository):
    """The hash-chained journal. Lanes `record` received events into `journal_pending` without
    touching the chain; `chain` appends what is pending, in batches, under a lock on the chain's
    head row, so the chain never forks and no lane waits for it. Rows of `journal` are only ever
    inserted (on PostgreSQL and SQLite a trigger refuses UPDATE and DELETE: migration 0007)."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    # -- the journal lane's inbox: an event is journaled once, whichever way it came -----------
    def seen_many(self, event_ids):
        ids = [str(i) for i in event_ids]
        found = set()
        for table in (orm.journal_pending, orm.journal):
            found |= {
                r[0] for r in self.session.execute(select(table.c.event_id).where(among(self.session, table.c.event_id, ids)))
            }
        return found

    def record_many(self, events):
        """Personal data (a report's text) is left out of the body: journal.journaled."""
        insert_rows(self.session, orm.journal_pending, self._pending_rows(events))

    def claim_many(self, events):
        """Record the events neither chained nor pending yet; returns the ids recorded. Two
        statements: the chained ones are looked up, the rest inserted unless pending already
        (ON CONFLICT DO NOTHING, which waits for a copy being recorded at the same moment)."""
        if not events:
            return set()
        ids = [str(e.event_id) for e in events]
        chained = {
            r[0]
            for r in self.session.execute(select(orm.journal.c.event_id).where(among(self.session, orm.journal.c.event_id, ids)))
        }
        return insert_new(
            self.session,
            orm.journal_pending,
            self._pending_rows([e for e in events if str(e.event_id) not in chained]),
            "event_id",
        )

    @staticmethod
    def _pending_rows(events):
        now, rows = utcnow(), []
        for e in events:
            body, service_id = journal.journaled(envelope.to_dict(e))
            rows.append(
                {
                    "event_id": str(e.event_id),
                    "event_type": e.event_type,
                    "body": body,
                    "received_at": now,
                    "service_id": service_id,
                }
            )
        return rows

    def record_new(self, events):
        """Journal events received another way (inbound facts), those not journaled already: a
        copy journaled meanwhile by another lane is skipped, the rest of the batch goes on."""
        self.claim_many(events)

    # -- the chain ------------------------------------------------------------------------------
    def _head(self):
        query = select(orm.journal_head.c.seq, orm.journal_head.c.hash).where(orm.journal_head.c.id == 1).with_for_update()
        row = self.session.execute(query).first()
        if row is None:  # the first entry ever; two first entries at once: one inserts, one waits
            insert_unless_taken(
                self.session,
                lambda: self.session.execute(
                    insert(orm.journal_head).values(id=1, seq=0, hash=journal.GENESIS, checkpoint_seq=0, checkpoint_at=utcnow())
                ),
            )
            row = self.session.execute(query).first()
        return row.seq, row.hash

    def has_pending(self):
        return self.session.scalar(select(orm.journal_pending.c.id).limit(1)) is not None

    def chain(self, limit=500):
        """Append up to `limit` pending events to the chain, oldest first; returns how many."""
        seq, head = self._head()
        p = orm.journal_pending
        rows = self.session.execute(
            select(p.c.id, p.c.event_id, p.c.event_type, p.c.body, p.c.service_id).order_by(p.c.id).limit(limit)
        ).all()
        if not rows:
            return 0
        # a copy recorded while its original was being chained (the recorder looked in the chain
        # before the chainer committed, then found no pending row to conflict with) is dropped
        chained = {
            r[0]
            for r in self.session.execute(
                select(orm.journal.c.event_id).where(among(self.session, orm.journal.c.event_id, [r.event_id for r in rows]))
            )
        }
        entries, now = [], utcnow()
        for row in (r for r in rows if r.event_id not in chained):
            entry = journal.next_entry(seq, head, row.event_id, row.event_type, row.body)
            seq, head = entry.seq, entry.hash
            entries.append(
                {
                    "seq": entry.seq,
                    "event_id": entry.event_id,
                    "event_type": entry.event_type,
                    "body": entry.body,
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                    "recorded_at": now,
                    "service_id": row.service_id,
                }
            )
        insert_rows(self.session, orm.journal, entries)
        self.session.execute(delete(p).where(among(self.session, p.c.id, [r.id for r in rows])))
        self.session.execute(update(orm.journal_head).where(orm.journal_head.c.id == 1).values(seq=seq, hash=head))
        return len(rows)

    def length(self):
        return self.session.execute(select(orm.journal_head.c.seq)).scalar() or 0

    def concerning(self, service_id, after=0, limit=500, event_types=None):
        """The chained entries about a service, by seq after `after`: (seq, event_id, event_type,
        recorded_at, body)."""
        j = orm.journal
        query = select(j.c.seq, j.c.event_id, j.c.event_type, j.c.recorded_at, j.c.body).where(
            j.c.service_id == service_id, j.c.seq > after
        )
        if event_types is not None:
            query = query.where(j.c.event_type.in_(list(event_types)))
        return self.session.execute(query.order_by(j.c.seq).limit(limit)).all()

    def count_concerning(self, service_id):
        j = orm.journal
        return self.session.scalar(select(func.count()).select_from(j).where(j.c.service_id == service_id))

    def entries(self, batch=1000, after=0, upto=None):
        """The chained entries after seq `after` (up to seq `upto`, if given), in order (read
        `batch` at a time)."""
        last = after
        while True:
            rows = self.entry_batch(last, batch, upto)
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].seq

    def entry_batch(self, after, limit, upto=None):
        """Up to `limit` chained entries after seq `after` (up to seq `upto`, if given), in order."""
        j = orm.journal
        query = select(j.c.seq, j.c.event_id, j.c.event_type, j.c.body, j.c.prev_hash, j.c.hash).where(j.c.seq > after)
        if upto is not None:
            query = query.where(j.c.seq <= upto)
        rows = self.session.execute(query.order_by(j.c.seq).limit(limit)).all()
        return [journal.Entry(*row) for row in rows]

    # -- checkpoints: the head published ------------------------------------------------------
    def head(self, for_update=False):
        """The chain's head with its last checkpoint (None before the first entry ever)."""
        query = select(journal.JournalHead).where(journal.JournalHead.id == 1)
        found = self.session.scalars(query.with_for_update() if for_update else query).first()
        return self._seen(found)

    def moved_since(self, seq):
        """Whether an entry other than a checkpoint was chained after `seq`."""
        j = orm.journal
        return (
            self.session.scalar(
                select(j.c.seq).where(j.c.seq > seq, j.c.event_type != journal.CHECKPOINT).order_by(j.c.seq).limit(1)
            )
            is not None
        )


# ---- citizen reports ----------------------------------------------------------------------------------
# Citizen reports in audit's database: stored in bulk as they arrive, read and locked for triage,
# counted for the threshold, their texts purged after the retention period.


class ReportRepository(SqlRepository):
    def add_reports(self, reports):
        """Store many new citizen reports in one statement."""
        insert_rows(
            self.session,
            orm.reports,
            [
                {
                    "id": r.id,
                    "service_id": r.service_id,
                    "category": r.category,
                    "text": r.text,
                    "counter_id": r.counter_id,
                    "created_at": r.created_at,
                    "source_event_id": r.source_event_id,
                    "status": r.status,
                }
                for r in reports
            ],
        )

    def get(self, report_id, for_update=False):
        found = self._one(select(CitizenReport).where(CitizenReport.id == report_id), for_update)
        if found is None:
            raise ReportNotFound(f"no report {report_id}", {"report_id": report_id})
        return found

    def many(self, report_ids, for_update=False):
        """The reports with these ids, in that order (ReportNotFound for the first missing)."""
        query = select(CitizenReport).where(CitizenReport.id.in_(list(report_ids)))
        if for_update:
            query = query.order_by(CitizenReport.id).with_for_update().execution_options(populate_existing=True)
        found = {r.id: r for r in self._seen_all(self.session.scalars(query).all())}
        missing = [i for i in report_ids if i not in found]
        if missing:
            raise ReportNotFound(f"no report {missing[0]}", {"report_id": missing[0]})
        return [found[i] for i in report_ids]

    def search(self, f):
        """(reports newest first, total) matching a ReportFilter."""
        r, where = orm.reports, []
        for column in ("service_id", "category", "status", "counter_id"):
            if getattr(f, column) is not None:
                where.append(r.c[column] == getattr(f, column))
        if f.since is not None:
            where.append(r.c.created_at >= datetime.combine(f.since, time()))
        if f.until is not None:
            where.append(r.c.created_at <= datetime.combine(f.until, time.max))
        total = self.session.scalar(select(func.count()).select_from(r).where(*where))
        page = self.session.scalars(
            select(CitizenReport)
            .where(*where)
            .order_by(CitizenReport.created_at.desc(), CitizenReport.id)
            .limit(f.limit)
            .offset(f.offset)
        ).all()
        return page, total

    def due_groups(self, since, threshold, categories):
        """(service_id, category) with at least `threshold` untriaged reports since `since`."""
        r = orm.reports
        return [
            tuple(row)
            for row in self.session.execute(
                select(r.c.service_id, r.c.category)
                .where(r.c.status == NEW, r.c.created_at >= since, r.c.category.in_(list(categories)))
                .group_by(r.c.service_id, r.c.category)
                .having(func.count() >= threshold)
                .order_by(r.c.service_id, r.c.category)
            )
        ]

    def untriaged(self, service_id, category, since):
        """The untriaged reports of a service and category since `since`, locked, oldest first."""
        return self._seen_all(
            self.session.scalars(
                select(CitizenReport)
                .where(
                    CitizenReport.service_id == service_id,
                    CitizenReport.category == category,
                    CitizenReport.status == NEW,
                    CitizenReport.created_at >= since,
                )
                .order_by(CitizenReport.created_at, CitizenReport.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).all()
        )

    def ids_by_finding(self, finding_ids):
        """{finding id: [its report ids, oldest first]}."""
        out = {f: [] for f in finding_ids}
        if finding_ids:
            r = orm.reports
            for finding_id, report_id in self.session.execute(
                select(r.c.finding_id, r.c.id).where(r.c.finding_id.in_(list(finding_ids))).order_by(r.c.created_at, r.c.id)
            ):
                out[finding_id].append(report_id)
        return out

    def counts(self, service_id):
        """{(category, status): reports} of a service."""
        r = orm.reports
        return {
            (c, s): n
            for c, s, n in self.session.execute(
                select(r.c.category, r.c.status, func.count())
                .where(r.c.service_id == service_id)
                .group_by(r.c.category, r.c.status)
            )
        }

    def texts_to_purge(self, cutoff, limit=500):
        """Reports received before `cutoff` whose text is still kept (skipping those another
        replica is purging)."""
        return self._seen_all(
            self.session.scalars(
                select(CitizenReport)
                .where(CitizenReport.created_at < cutoff, CitizenReport.purged_at.is_(None))
                .order_by(CitizenReport.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
        )

    def by_status(self):
        return self._count_by_status(orm.reports)


# ---- the unit of work ---------------------------------------------------------------------------------
class AuditUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        attach_staff_tables(self, session)  # shared/web/edge.py's
        self.audit = AuditRepository(session)
        self.reports = ReportRepository(session)
        self.journal = Journal(session)
