"""Audit's use cases: one transaction each, events committed with the change."""
import uuid

from sqlalchemy import select

from spc.shared import envelope
from spc.shared.clock import to_wire, utcnow
from spc.shared.errors import NotFound, Rejection

from . import orm
from .domain import journal
from .domain.commands import RecordFinding, ResolveFinding
from .domain.model import CitizenReport, Finding


def _known(uow, service_id):
    compliance = uow.audit.compliance(service_id, for_update=True)
    return compliance if compliance is not None and compliance.known else None


def _record_finding(uow, cmd: RecordFinding):
    compliance = _known(uow, cmd.service_id)
    if compliance is None:
        return None
    finding = Finding(str(uuid.uuid4()), cmd.service_id, cmd.principle, cmd.severity, cmd.summary,
                      cmd.reported_by, utcnow(), cmd.evidence_url, cmd.source_event_id)
    uow.audit.add(finding)
    compliance.record(finding)
    uow.emit_all(compliance.pull_events())
    return finding


def record_finding(uow, cmd: RecordFinding):
    """A finding from staff (POST /findings); major and critical ones are violations."""
    with uow:
        finding = _record_finding(uow, cmd)
        if finding is None:
            raise NotFound(f"no registered service {cmd.service_id}", {"service_id": cmd.service_id},
                           code="unknown_service")
        uow.commit()
        return finding_view(finding)


def resolve_finding(uow, cmd: ResolveFinding):
    """Resolve a finding; resolving the last open violation reinstates the service."""
    with uow:
        finding = uow.audit.finding(cmd.finding_id, for_update=True)  # finding, then compliance:
        compliance = uow.audit.compliance(finding.service_id, for_update=True)  # as escalation does
        compliance.resolve(finding, cmd.resolution, cmd.actor, utcnow())
        uow.emit_all(compliance.pull_events())
        uow.commit()
        return finding_view(finding)


def escalate_overdue(uow, now=None):
    """Minor findings still open at their deadline become violations. Returns how many."""
    now = now or utcnow()
    with uow:
        escalated = 0
        for finding in uow.audit.overdue_minor_findings(now):
            compliance = uow.audit.compliance(finding.service_id, for_update=True)
            escalated += compliance.escalate(finding, now)
            uow.emit_all(compliance.pull_events())
        uow.commit()
        return escalated


def on_violation_reported(uow, event):
    p = event.payload
    cmd = RecordFinding(p["service_id"], p["principle"], p["severity"], p["summary"],
                        p["reported_by"], p.get("evidence_url"), str(event.event_id))
    if _record_finding(uow, cmd) is None:
        raise Rejection("unknown_service", f"no registered service {p['service_id']}")


def on_report_submitted(uow, event):
    p = event.payload
    if _known(uow, p["service_id"]) is None:
        raise Rejection("unknown_service", f"no registered service {p['service_id']}")
    uow.audit.add(CitizenReport(str(uuid.uuid4()), p["service_id"], p["category"], p["text"],
                                utcnow(), p.get("counter_id"), str(event.event_id)))


def on_registry_event(uow, event):
    p = event.payload
    compliance = uow.audit.compliance(p["service_id"], for_update=True, create=True)
    compliance.follow_registry(p["status"], p["version"])


EVENT_HANDLERS = {
    "compliance.violation_reported": on_violation_reported,
    "usager.report_submitted": on_report_submitted,
    **{f"registry.service_{n}": on_registry_event
       for n in ("submitted", "approved", "suspended", "reinstated", "revoked")},
}


def journal_and_apply(uow, event):
    """Every consumed event goes once into the journal, then to its handler if it has one."""
    body = journal.canonical(envelope.to_dict(event))
    uow.journal.append(event.event_id, event.event_type, body)
    handler = EVENT_HANDLERS.get(event.event_type)
    if handler is not None:
        handler(uow, event)


def verify_journal(uow):
    with uow:
        result = journal.verify(uow.journal.entries())
        head = uow.session.execute(select(orm.journal_head.c.seq)).scalar() or 0
        if result["ok"] and result["length"] != head:
            return {"ok": False, "first_bad_seq": result["length"] + 1}
        return result


def service_findings(uow, service_id):
    with uow:
        compliance = uow.audit.compliance(service_id)
        if compliance is None:
            raise NotFound(f"no service {service_id} known to audit", {"service_id": service_id})
        return {"service_id": service_id, "open_violations": compliance.open_violations,
                "findings": [finding_view(f) for f in uow.audit.findings_of(service_id)]}


def finding_view(f):
    return {"id": f.id, "service_id": f.service_id, "principle": f.principle, "severity": f.severity,
            "summary": f.summary, "reported_by": f.reported_by, "evidence_url": f.evidence_url,
            "is_violation": f.is_violation, "escalated": f.escalated, "status": f.status,
            "created_at": to_wire(f.created_at), "remediation_deadline": to_wire(f.remediation_deadline),
            "resolution": f.resolution, "resolved_by": f.resolved_by, "resolved_at": to_wire(f.resolved_at)}
