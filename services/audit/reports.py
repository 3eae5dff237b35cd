"""Citizen reports triaged: listed for auditors, dismissed with a reason or made part of a finding,
a minor finding opened by the threshold, texts purged after the retention period. One
transaction each; `audit.report_triaged` (never the text) commits with the change."""
import uuid

from spc.shared.clock import utcnow

from .domain.commands import DismissReport, ReportFilter
from .domain.model import Finding
from .domain.reports import CATEGORY_PRINCIPLES, THRESHOLD_ACTOR, ReportPolicy
from .exceptions import ReportOfAnotherService
from .schemas import CitizenReportPage
from .views import report_answer


def list_reports(uow, query: ReportFilter):
    """GET /reports: newest first, with their texts (auditors only)."""
    with uow:
        page, total = uow.reports.search(query)
        return CitizenReportPage().dump({"items": page, "total": total, "limit": query.limit, "offset": query.offset})


def dismiss_report(uow, cmd: DismissReport):
    """An auditor dismisses a report, with a reason."""
    with uow:
        report = uow.reports.get(cmd.report_id, for_update=True)
        report.dismiss(cmd.reason, cmd.actor, utcnow())
        uow.commit()
        return report_answer(report)


def link_reports(uow, finding, report_ids, actor, now):
    """The reports become part of `finding` (in the finding's transaction, after its compliance
    lock: the order every triage takes). Each must be about its service and untriaged."""
    reports = uow.reports.many(list(dict.fromkeys(report_ids)), for_update=True)
    for report in reports:
        if report.service_id != finding.service_id:
            raise ReportOfAnotherService(f"report {report.id} is about another service",
                                         {"report_id": report.id, "service_id": report.service_id})
    for report in reports:
        report.link(finding.id, actor, now)


def open_threshold_findings(uow, policy: ReportPolicy, now=None):
    """Where untriaged reports of one category about one service reached the threshold within
    the window, a minor finding made of them, once per window. Such a finding has no deadline:
    reports alone never suspend a service (an auditor escalates it, or not). Returns how many."""
    now = now or utcnow()
    with uow:
        due = uow.reports.due_groups(policy.window_start(now), policy.threshold, CATEGORY_PRINCIPLES)
    return sum(_open_threshold_finding(uow, policy, service_id, category, now) for service_id, category in due)


THRESHOLD_LINKS = 100  # reports linked to a threshold finding in one transaction (the oldest)


def _open_threshold_finding(uow, policy, service_id, category, now):
    """Under the service's compliance lock, so replicas (and a concurrent triage) open it once.
    A group whose finding is already open is passed over before any lock is taken: the sweep
    runs every few seconds and must never stand in the way of a violation (the compliance lock,
    and on SQLite the one writer). At most THRESHOLD_LINKS reports, the oldest, are linked; later
    ones stay for the auditors, who may add them to the finding."""
    since = policy.window_start(now)
    with uow:
        if uow.audit.threshold_finding_since(service_id, category, since):
            return 0
    with uow:
        compliance = uow.audit.compliance(service_id, for_update=True)
        if compliance is None or uow.audit.threshold_finding_since(service_id, category, since):
            return 0
        reports = uow.reports.untriaged(service_id, category, since)[:THRESHOLD_LINKS]
        if len(reports) < policy.threshold:
            return 0
        finding = Finding(str(uuid.uuid4()), service_id, CATEGORY_PRINCIPLES[category], "minor",
                          policy.threshold_summary(len(reports), category), THRESHOLD_ACTOR, now,
                          threshold_category=category)
        uow.audit.add(finding)
        compliance.record(finding)
        for report in reports:
            report.link(finding.id, THRESHOLD_ACTOR, now)
        uow.commit()
        return 1


def purge_report_texts(uow, policy: ReportPolicy, now=None, batch=500):
    """Texts of reports received more than the retention period ago become null (`purged_at`
    says when); the rest of each report stays. Returns how many."""
    now = now or utcnow()
    total = 0
    while True:
        with uow:
            reports = uow.reports.texts_to_purge(policy.retention_cutoff(now), batch)
            for report in reports:
                report.purge(now)
            uow.commit()
        total += len(reports)
        if len(reports) < batch:
            return total
