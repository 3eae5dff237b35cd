"""What audit's answers show of its objects (schemas.py declares them)."""
from spc.shared.clock import to_wire


def finding_view(f, compliance, histories=None, report_ids=None):
    """The finding with the service's commitment to its principle, from the pact audit last
    heard of, its answer and the reports it is made of; `histories`: {finding id: who did what
    to it} when the answer shows them; `report_ids`: {finding id: [report ids]}."""
    return {**({"history": histories[f.id]} if histories is not None else {}),
            "commitment": compliance.commitment(f.principle),
            "id": f.id, "service_id": f.service_id, "principle": f.principle, "severity": f.severity,
            "summary": f.summary, "reported_by": f.reported_by, "evidence_url": f.evidence_url,
            "is_violation": f.is_violation, "escalated": f.escalated, "status": f.status,
            "created_at": to_wire(f.created_at), "remediation_deadline": to_wire(f.remediation_deadline),
            "resolution": f.resolution, "resolved_by": f.resolved_by, "resolved_at": to_wire(f.resolved_at),
            "escalation": None if not f.escalated else {
                "at": to_wire(f.escalated_at), "by": f.escalated_by, "reason": f.escalation_reason},
            "answer": answer_view(f), "report_ids": (report_ids or {}).get(f.id, []),
            "opened_by_threshold": f.threshold_category is not None}


def answer_view(f):
    if f.answered_at is None:
        return None
    return {"plan": f.plan, "due_on": f.plan_due_on.isoformat(), "answered_by": f.answered_by,
            "answered_at": to_wire(f.answered_at), "done_at": to_wire(f.done_at), "done_by": f.done_by,
            "done_note": f.done_note}


def report_view(r):
    """A report as auditors see it: with its text (null once purged)."""
    return {"id": r.id, "service_id": r.service_id, "category": r.category, "text": r.text,
            "counter_id": r.counter_id, "status": r.status, "created_at": to_wire(r.created_at),
            "finding_id": r.finding_id, "dismissal_reason": r.dismissal_reason, "triaged_by": r.triaged_by,
            "triaged_at": to_wire(r.triaged_at), "purged_at": to_wire(r.purged_at),
            "report_event_id": r.source_event_id}


def finding_answer(uow, finding, compliance):
    """A single finding as answered to staff and to the service: with its history and reports."""
    return finding_view(finding, compliance, uow.staff_log.history([finding.id]),
                        uow.reports.ids_by_finding([finding.id]))
