"""What audit's answers show of its objects: each answer is the dump of its schema (schemas.py)."""
from spc.shared.answers import Answer

from .schemas import CitizenReportOut, FindingOut


def finding_seen(f, compliance, history=None, report_ids=()):
    """The finding as FindingOut dumps it: with the service's commitment to its principle, from
    the pact audit last heard of, its escalation and its answer (the finding's own fields, when it
    has one) and the reports it is made of; `history`: who did what to it, when the answer shows it."""
    extra = {} if history is None else {"history": history}
    return Answer(f, commitment=compliance.commitment(f.principle), report_ids=list(report_ids),
                  escalation=f if f.escalated else None, answer=f if f.answered_at is not None else None,
                  opened_by_threshold=f.threshold_category is not None, **extra)


def findings_seen(uow, findings, compliance):
    """The service's findings, each with its history and its reports."""
    ids = [f.id for f in findings]
    histories, report_ids = uow.staff_log.history(ids), uow.reports.ids_by_finding(ids)
    return [finding_seen(f, compliance, histories[f.id], report_ids.get(f.id, ())) for f in findings]


def finding_answer(uow, finding, compliance):
    """A single finding as answered to staff and to the service: with its history and reports."""
    return FindingOut().dump(findings_seen(uow, [finding], compliance)[0])


def report_answer(report):
    """A report as auditors see it: with its text (null once purged)."""
    return CitizenReportOut().dump(report)
