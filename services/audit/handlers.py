"""Audit's use cases: one transaction each, events committed with the change."""
import uuid
from datetime import timedelta

from spc.shared import envelope, events, topology
from spc.shared.clock import utcnow
from spc.shared.dispatch import BULK, URGENT, Consumes, batched, dispatch
from spc.shared.lists import whole
from spc.shared.errors import KNOWN_WAIT_SECONDS, Rejection, until_known

from .domain import journal
from .domain.commands import RecordFinding, ResolveFinding
from .domain.model import Finding, ParkedFact
from .domain.reports import CitizenReport
from .exceptions import ServiceNotKnown, UnknownService
from .reports import link_reports
from .schemas import FindingsOut
from .views import finding_answer, findings_seen


def _compliance(uow, service_id):
    """The service's compliance row, locked; created (not yet known) if audit never heard of it,
    so a fact parked for it and the registry's event about it meet on the same row lock."""
    return uow.audit.compliance(service_id, for_update=True, create=True)


def _record_finding(uow, cmd: RecordFinding, compliance, now=None):
    finding = Finding(str(uuid.uuid4()), cmd.service_id, cmd.principle, cmd.severity, cmd.summary,
                      cmd.reported_by, now or utcnow(), cmd.evidence_url, cmd.source_event_id)
    uow.audit.add(finding)
    compliance.record(finding)
    return finding


def record_finding(uow, cmd: RecordFinding, wait_seconds=KNOWN_WAIT_SECONDS):
    """A finding from staff (POST /findings), made of citizen reports if it names them (linked
    both ways); major and critical ones are violations. A service approved a moment ago may not
    be known here yet: wait a little, then 404 with Retry-After."""
    return until_known(lambda: _record_staff_finding(uow, cmd), wait_seconds)


def _record_staff_finding(uow, cmd):
    with uow:
        compliance = uow.audit.compliance(cmd.service_id, for_update=True)
        if compliance is None or not compliance.known:
            raise UnknownService(f"no registered service {cmd.service_id} (if it was approved a "
                                 "moment ago, retry)", {"service_id": cmd.service_id})
        now = utcnow()
        finding = _record_finding(uow, cmd, compliance, now)
        if cmd.report_ids:
            link_reports(uow, finding, cmd.report_ids, uow.actor or cmd.reported_by, now)
        uow.commit()
        return finding_answer(uow, finding, compliance)


def resolve_finding(uow, cmd: ResolveFinding):
    """Resolve a finding; resolving the last open violation reinstates the service."""
    with uow:
        finding = uow.audit.finding(cmd.finding_id, for_update=True)  # finding, then compliance:
        compliance = uow.audit.compliance(finding.service_id, for_update=True)  # as escalation does
        compliance.resolve(finding, cmd.resolution, cmd.actor, utcnow())
        uow.commit()
        return finding_answer(uow, finding, compliance)


def escalate_overdue(uow, now=None):
    """Minor findings still open at their deadline become violations. Returns how many."""
    now = now or utcnow()
    with uow:
        escalated = 0
        for finding in uow.audit.overdue_minor_findings(now):
            compliance = uow.audit.compliance(finding.service_id, for_update=True)
            escalated += compliance.escalate(finding, now)
        uow.commit()
        return escalated


def on_violation_reported(uow, event):
    """compliance.violation_reported: a finding, or the fact parked until the service is known."""
    p = event.payload
    compliance = _compliance(uow, p["service_id"])
    if not compliance.known:
        return _park(uow, event, topology.AUDIT_COMPLIANCE)
    cmd = RecordFinding(p["service_id"], p["principle"], p["severity"], p["summary"],
                        p["reported_by"], p.get("evidence_url"), str(event.event_id))
    _record_finding(uow, cmd, compliance)


def on_report_submitted(uow, event):
    """usager.report_submitted: the report is kept for triage (parked if the service is unknown,
    under the lock the registry's event takes too)."""
    if not _compliance(uow, event.payload["service_id"]).known:
        return _park(uow, event, topology.AUDIT_REPORTS)
    uow.reports.add_reports([_citizen_report(event)])


def _citizen_report(event, now=None):
    """A report as received (`now`: when, by default the clock's now)."""
    p = event.payload
    return CitizenReport(str(uuid.uuid4()), p["service_id"], p["category"], p["text"], now or utcnow(),
                         p.get("counter_id"), str(event.event_id))


def on_registry_event(uow, event):
    """registry.service_* and registry.pact_amended: follow the standing and the pact's
    commitments (each pact version is kept, for the dossier); facts that were waiting for it
    apply now."""
    p = event.payload
    compliance = _compliance(uow, p["service_id"])
    commitments, pact_version = p.get("commitments") or (), p.get("pact_version") or 1
    compliance.follow_registry(p["status"], p["version"], commitments, pact_version)
    uow.audit.keep_pact_version(p["service_id"], pact_version, [
        {"principle": c["principle"], "text": c.get("text")} for c in commitments], p["version"], utcnow())
    for fact in uow.audit.parked_for(p["service_id"]):
        uow.audit.unpark(fact)
        apply_facts(uow, [envelope.parse(fact.body.encode("utf-8"))])  # as if it arrived now (journaled already)


def _park(uow, event, queue):
    uow.audit.park(ParkedFact(str(event.event_id), event.payload["service_id"], event.event_type,
                              queue.name, envelope.to_bytes(event).decode("utf-8"), utcnow()))


@batched
def on_violations_reported(uow, events):
    """compliance.violation_reported: journaled as received, then each a finding (or parked)."""
    uow.journal.record_new(events)
    for event in events:
        on_violation_reported(uow, event)


@batched
def on_reports_submitted(uow, events, now=None):
    """usager.report_submitted: journaled as received; the reports about known services (nearly
    all) stored together, without taking any lock a violation would wait on; the others parked
    (`now`: when they arrived, by default the clock's now)."""
    uow.journal.record_new(events)
    known = uow.audit.known_services({e.payload["service_id"] for e in events})
    reports = []
    for event in events:
        if event.payload["service_id"] in known:
            reports.append(_citizen_report(event, now))
        else:
            on_report_submitted(uow, event)
    uow.reports.add_reports(reports)


# Inbound facts, by type: the compliance lane, the reports lane, and the queue of before the lanes
FACTS = {"compliance.violation_reported": on_violations_reported,
         "usager.report_submitted": on_reports_submitted}
STANDING_HANDLERS = {event_type: on_registry_event for event_type in events.SERVICE_LIFECYCLE}
BATCH = 200  # the bulk lanes' batch
# every event on spc.events, journaled: the lane's inbox is the journal, with no other use case
JOURNAL = Consumes(topology.AUDIT_JOURNAL, None, BULK, BATCH, inbox="journal")
CONSUMERS = (
    Consumes(topology.AUDIT_COMPLIANCE, {t: FACTS[t] for t in topology.AUDIT_COMPLIANCE.event_types}, URGENT),
    Consumes(topology.AUDIT_STANDINGS, STANDING_HANDLERS, URGENT),
    Consumes(topology.AUDIT_REPORTS, {t: FACTS[t] for t in topology.AUDIT_REPORTS.event_types}, BULK, BATCH),
    JOURNAL,
    # what a broker upgraded from before the lanes still holds in `audit.inbound`
    Consumes(topology.RETIRED_AUDIT_INBOUND, FACTS, URGENT),
)


def apply_facts(uow, events):
    """Inbound facts of any type, through the facts' one dispatch (a parked fact replayed, tests)."""
    dispatch(FACTS, uow, events)


def chain_journal(uow, batch=500):
    """Append what the lanes recorded to the hash chain, in batches. Returns how many."""
    total = 0
    while True:
        with uow:
            if not uow.journal.has_pending():
                return total
            n = uow.journal.chain(batch)
            uow.commit()
        total += n
        if n < batch:
            return total


def expire_parked(uow, window_seconds, dead_letter, now=None):
    """Facts parked longer than the window, about a service that never appeared: dead-lettered
    `unknown_service` by `dead_letter(fact, rejection)`, and forgotten by the inbox so that a
    replay, once the cause is fixed, is applied. Returns how many."""
    now = now or utcnow()
    with uow:
        expired = [f for f in uow.audit.parked_since(now - timedelta(seconds=window_seconds))
                   if f.expired(now, window_seconds)]
        for fact in expired:
            dead_letter(fact, Rejection("unknown_service", f"no registered service {fact.service_id} "
                                        f"after waiting {window_seconds:g} s"))
            uow.audit.unpark(fact)
            uow.inbox.forget(fact.event_id)
        uow.flush()
        for service_id in {f.service_id for f in expired}:
            uow.audit.forget_if_unknown(service_id)
        uow.commit()
        return len(expired)


def parked_count(uow):
    with uow:
        return uow.audit.parked_count()


def verify_journal(uow):
    """The chain up to its head as read first: the journal may move while it is read (each
    statement has its own snapshot on PostgreSQL), and what was appended after the head was read
    is checked by the next verification, not taken for a chain longer than its head."""
    with uow:
        head = uow.journal.length()
        result = journal.verify(uow.journal.entries(upto=head))
        if result["ok"] and result["length"] != head:
            return {"ok": False, "first_bad_seq": result["length"] + 1}
        return result


def service_findings(uow, service_id):
    with uow:
        compliance = uow.audit.compliance(service_id)
        if compliance is None or not compliance.known:
            raise ServiceNotKnown(f"no service {service_id} known to audit", {"service_id": service_id})
        findings = findings_seen(uow, uow.audit.findings_of(service_id), compliance)
        return FindingsOut().dump(whole(findings, service_id=service_id, open_violations=compliance.open_violations,
                                        findings=findings))


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): audit's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.audit.standings(after, limit)


def holdings(uow):
    """For the metrics: findings and reports by status (parked facts have their own gauge)."""
    with uow:
        return {**{("findings", status): n for status, n, _ in uow.audit.findings_by_status()},
                **{("reports", status): n for status, n, _ in uow.reports.by_status()}}


def deadlines(uow, until, service_id=None):
    """Audit's deadlines up to `until` (shared/reminders.py): open findings' remediation deadlines."""
    from .domain.reminders import remediations
    return remediations(uow.audit.open_deadlines(until, service_id))
