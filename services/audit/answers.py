"""The service's own voice on its findings: it answers one with a remediation plan and a date,
then reports the remediation done; an auditor resolves (handlers.resolve_finding) or escalates.
Each step is an event (so in the journal and in the finding's history)."""
from spc.shared.clock import utcnow

from .domain.commands import AnswerFinding, EscalateFinding, ReportRemediationDone
from .exceptions import FindingNotFound
from .views import finding_answer


def answer_finding(uow, cmd: AnswerFinding):
    """The service (or an auditor for it) records its remediation plan and date."""
    return _act_on_own_finding(uow, cmd.service_id, cmd.finding_id,
                               lambda c, f, now: c.answer(f, cmd.plan, cmd.due_on, cmd.actor, now))


def report_remediation_done(uow, cmd: ReportRemediationDone):
    """The service says the remediation it planned is done."""
    return _act_on_own_finding(uow, cmd.service_id, cmd.finding_id,
                               lambda c, f, now: c.report_done(f, cmd.note, cmd.actor, now))


def escalate_finding(uow, cmd: EscalateFinding):
    """An auditor makes an open minor finding a violation (the service is suspended)."""
    with uow:
        finding = uow.audit.finding(cmd.finding_id, for_update=True)  # finding, then compliance
        compliance = uow.audit.compliance(finding.service_id, for_update=True)
        compliance.escalate_by(finding, cmd.reason, cmd.actor, utcnow())
        uow.commit()
        return finding_answer(uow, finding, compliance)


def _act_on_own_finding(uow, service_id, finding_id, act):
    """`act(compliance, finding, now)` on a finding of the service the path names (a finding of
    another service is not found: a service token learns nothing of others' findings)."""
    with uow:
        finding = uow.audit.finding(finding_id, for_update=True)
        if finding.service_id != service_id:
            raise FindingNotFound(f"no finding {finding_id} about service {service_id}",
                                  {"finding_id": finding_id, "service_id": service_id})
        compliance = uow.audit.compliance(service_id, for_update=True)
        act(compliance, finding, utcnow())
        uow.commit()
        return finding_answer(uow, finding, compliance)
