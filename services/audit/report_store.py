"""Citizen reports in audit's database: stored in bulk as they arrive, read and locked for triage,
counted for the threshold, their texts purged after the retention period."""
from datetime import datetime, time

from sqlalchemy import func, select

from spc.shared.bulk import insert_rows
from spc.shared.persistence import SqlRepository

from . import orm
from .domain.reports import NEW, CitizenReport
from .exceptions import ReportNotFound


class ReportRepository(SqlRepository):
    def add_reports(self, reports):
        """Store many new citizen reports in one statement."""
        insert_rows(self.session, orm.reports, [
                {"id": r.id, "service_id": r.service_id, "category": r.category, "text": r.text,
                 "counter_id": r.counter_id, "created_at": r.created_at,
                 "source_event_id": r.source_event_id, "status": r.status} for r in reports])

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
        page = self.session.scalars(select(CitizenReport).where(*where).order_by(
            CitizenReport.created_at.desc(), CitizenReport.id).limit(f.limit).offset(f.offset)).all()
        return page, total

    def due_groups(self, since, threshold, categories):
        """(service_id, category) with at least `threshold` untriaged reports since `since`."""
        r = orm.reports
        return [tuple(row) for row in self.session.execute(
            select(r.c.service_id, r.c.category)
            .where(r.c.status == NEW, r.c.created_at >= since, r.c.category.in_(list(categories)))
            .group_by(r.c.service_id, r.c.category).having(func.count() >= threshold)
            .order_by(r.c.service_id, r.c.category))]

    def untriaged(self, service_id, category, since):
        """The untriaged reports of a service and category since `since`, locked, oldest first."""
        return self._seen_all(self.session.scalars(select(CitizenReport).where(
            CitizenReport.service_id == service_id, CitizenReport.category == category,
            CitizenReport.status == NEW, CitizenReport.created_at >= since)
            .order_by(CitizenReport.created_at, CitizenReport.id)
            .with_for_update().execution_options(populate_existing=True)).all())

    def ids_by_finding(self, finding_ids):
        """{finding id: [its report ids, oldest first]}."""
        out = {f: [] for f in finding_ids}
        if finding_ids:
            r = orm.reports
            for finding_id, report_id in self.session.execute(
                    select(r.c.finding_id, r.c.id).where(r.c.finding_id.in_(list(finding_ids)))
                    .order_by(r.c.created_at, r.c.id)):
                out[finding_id].append(report_id)
        return out

    def counts(self, service_id):
        """{(category, status): reports} of a service."""
        r = orm.reports
        return {(c, s): n for c, s, n in self.session.execute(
            select(r.c.category, r.c.status, func.count()).where(r.c.service_id == service_id)
            .group_by(r.c.category, r.c.status))}

    def texts_to_purge(self, cutoff, limit=500):
        """Reports received before `cutoff` whose text is still kept (skipping those another
        replica is purging)."""
        return self._seen_all(self.session.scalars(select(CitizenReport).where(
            CitizenReport.created_at < cutoff, CitizenReport.purged_at.is_(None))
            .order_by(CitizenReport.created_at).limit(limit).with_for_update(skip_locked=True)).all())

    def by_status(self):
        return self._count_by_status(orm.reports)

