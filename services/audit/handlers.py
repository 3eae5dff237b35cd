"""Audit's use cases: one transaction each, events committed with the change. In order: the
compliance facts and decisions (findings, violations, the registry's events), the service's answers
to its findings, a service's dossier, citizen reports' triage, the journal's export and checkpoints."""

import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

from spc.shared.core import envelope, events
from spc.shared.core.clock import utcnow
from spc.shared.core.dispatch import BULK, URGENT, Consumes, batched, dispatch
from spc.shared.core.errors import KNOWN_WAIT_SECONDS, Rejection, until_known
from spc.shared.core.answers import out
from spc.shared.core.lists import whole
from spc.shared.messaging import topology

from .domain import journal
from .domain.commands import (
    AnswerFinding,
    DismissReport,
    EscalateFinding,
    RecordFinding,
    ReportFilter,
    ReportRemediationDone,
    ResolveFinding,
)
from .domain.model import Finding, ParkedFact
from .domain.reports import CATEGORY_PRINCIPLES, THRESHOLD_ACTOR, CitizenReport, ReportPolicy
from .exceptions import FindingNotFound, ReportOfAnotherService, ServiceNotKnown, UnknownService
from .schemas import CitizenReportPage, DossierOut, FindingsOut, finding_answer, findings_seen, report_answer


def _compliance(uow, service_id):
    """The service's compliance row, locked; created (not yet known) if audit never heard of it,
    so a fact parked for it and the registry's event about it meet on the same row lock."""
    return uow.audit.compliance(service_id, for_update=True, create=True)


def _record_finding(uow, cmd: RecordFinding, compliance, now=None):
    finding = Finding(
        str(uuid.uuid4()),
        cmd.service_id,
        cmd.principle,
        cmd.severity,
        cmd.summary,
        cmd.reported_by,
        now or utcnow(),
        cmd.evidence_url,
        cmd.source_event_id,
    )
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
            raise UnknownService(
                f"no registered service {cmd.service_id} (if it was approved a moment ago, retry)", {"service_id": cmd.service_id}
            )
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
    cmd = RecordFinding(
        p["service_id"], p["principle"], p["severity"], p["summary"], p["reported_by"], p.get("evidence_url"), str(event.event_id)
    )
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
    return CitizenReport(
        str(uuid.uuid4()), p["service_id"], p["category"], p["text"], now or utcnow(), p.get("counter_id"), str(event.event_id)
    )


def on_registry_event(uow, event):
    """registry.service_* and registry.pact_amended: follow the standing and the pact's
    commitments (each pact version is kept, for the dossier); facts that were waiting for it
    apply now."""
    p = event.payload
    compliance = _compliance(uow, p["service_id"])
    commitments, pact_version = p.get("commitments") or (), p.get("pact_version") or 1
    compliance.follow_registry(p["status"], p["version"], commitments, pact_version)
    uow.audit.keep_pact_version(
        p["service_id"],
        pact_version,
        [{"principle": c["principle"], "text": c.get("text")} for c in commitments],
        p["version"],
        utcnow(),
    )
    for fact in uow.audit.parked_for(p["service_id"]):
        uow.audit.unpark(fact)
        apply_facts(uow, [envelope.parse(fact.body.encode("utf-8"))])  # as if it arrived now (journaled already)


def _park(uow, event, queue):
    uow.audit.park(
        ParkedFact(
            str(event.event_id),
            event.payload["service_id"],
            event.event_type,
            queue.name,
            envelope.to_bytes(event).decode("utf-8"),
            utcnow(),
        )
    )


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
FACTS = {"compliance.violation_reported": on_violations_reported, "usager.report_submitted": on_reports_submitted}
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
        expired = [f for f in uow.audit.parked_since(now - timedelta(seconds=window_seconds)) if f.expired(now, window_seconds)]
        for fact in expired:
            dead_letter(
                fact, Rejection("unknown_service", f"no registered service {fact.service_id} after waiting {window_seconds:g} s")
            )
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
        return out(FindingsOut).dump(
            whole(findings, service_id=service_id, open_violations=compliance.open_violations, findings=findings)
        )


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): audit's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.audit.standings(after, limit)


def holdings(uow):
    """For the metrics: findings and reports by status (parked facts have their own gauge)."""
    with uow:
        return {
            **{("findings", status): n for status, n, _ in uow.audit.findings_by_status()},
            **{("reports", status): n for status, n, _ in uow.reports.by_status()},
        }


def deadlines(uow, until, service_id=None):
    """Audit's deadlines up to `until` (shared/sql/reminders.py): open findings' remediation deadlines."""
    from .domain.reminders import remediations

    return remediations(uow.audit.open_deadlines(until, service_id))


# ---- the service's answers to its findings ------------------------------------------------------------
# The service's own voice on its findings: it answers one with a remediation plan and a date,
# then reports the remediation done; an auditor resolves (resolve_finding, above) or escalates.
# Each step is an event (so in the journal and in the finding's history).


def answer_finding(uow, cmd: AnswerFinding):
    """The service (or an auditor for it) records its remediation plan and date."""
    return _act_on_own_finding(
        uow, cmd.service_id, cmd.finding_id, lambda c, f, now: c.answer(f, cmd.plan, cmd.due_on, cmd.actor, now)
    )


def report_remediation_done(uow, cmd: ReportRemediationDone):
    """The service says the remediation it planned is done."""
    return _act_on_own_finding(uow, cmd.service_id, cmd.finding_id, lambda c, f, now: c.report_done(f, cmd.note, cmd.actor, now))


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
            raise FindingNotFound(
                f"no finding {finding_id} about service {service_id}", {"finding_id": finding_id, "service_id": service_id}
            )
        compliance = uow.audit.compliance(service_id, for_update=True)
        act(compliance, finding, utcnow())
        uow.commit()
        return finding_answer(uow, finding, compliance)


# ---- a service's dossier ------------------------------------------------------------------------------
# A service's dossier: what an inspector needs in one answer. The pact versions audit has heard
# of, the findings with their answers and deadlines, the citizen reports counted (their texts for
# auditors only), the decisions, and the journal entries about the service by sequence number.

DECISIONS = ("audit.violation_confirmed", "audit.violation_resolved")
REPORT_ITEMS = 500  # the newest, in an auditor's dossier; GET /reports pages through them all


def dossier(uow, service_id, reader, journal_after=0, journal_limit=500):
    """`reader`: the caller (an Actor); report texts are shown to auditors only."""
    with uow:
        compliance = uow.audit.compliance(service_id)
        if compliance is None or not compliance.known:
            raise ServiceNotKnown(f"no service {service_id} known to audit", {"service_id": service_id})
        return out(DossierOut).dump(
            {
                "service_id": service_id,
                "registry_status": compliance.registry_status,
                "open_violations": compliance.open_violations,
                "audit_version": compliance.audit_version,
                "pact_versions": uow.audit.pact_versions(service_id),
                "findings": findings_seen(uow, uow.audit.findings_of(service_id), compliance),
                "reports": _reports(uow, service_id, with_texts=reader is not None and reader.role == "auditor"),
                "decisions": [_decision(e) for e in uow.journal.concerning(service_id, 0, 100_000, DECISIONS)],
                "journal": _journal(uow, service_id, journal_after, journal_limit),
            }
        )


def _reports(uow, service_id, with_texts):
    by_category, by_status = {}, {}
    for (category, status), n in uow.reports.counts(service_id).items():
        by_category[category] = by_category.get(category, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    out = {"total": sum(by_status.values()), "by_category": by_category, "by_status": by_status}
    if with_texts:
        page, _ = uow.reports.search(ReportFilter(service_id=service_id, limit=REPORT_ITEMS))
        out["items"] = page
    return SimpleNamespace(**out)  # not a dict: its `items` method would stand for the texts left out


def _decision(entry):
    body = json.loads(entry.body)
    p = body["payload"]
    return {
        "seq": entry.seq,
        "decision": entry.event_type.rsplit("_", 1)[-1],
        "finding_id": p.get("finding_id"),
        "open_violations": p.get("open_violations"),
        "audit_version": p.get("audit_version"),
        "at": body.get("occurred_at"),
        "by": body.get("actor"),
    }


def _journal(uow, service_id, after, limit):
    entries = uow.journal.concerning(service_id, after, limit)
    return {
        "total": uow.journal.count_concerning(service_id),
        "entries": [_entry(e) for e in entries],
        "next_after": entries[-1].seq if len(entries) == limit else None,
    }


def _entry(e):
    return {
        "seq": e.seq,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "recorded_at": e.recorded_at,
        "finding_id": json.loads(e.body)["payload"].get("finding_id"),
    }


# ---- citizen reports ----------------------------------------------------------------------------------
# Citizen reports triaged: listed for auditors, dismissed with a reason or made part of a finding,
# a minor finding opened by the threshold, texts purged after the retention period. One
# transaction each; `audit.report_triaged` (never the text) commits with the change.


def list_reports(uow, query: ReportFilter):
    """GET /reports: newest first, with their texts (auditors only)."""
    with uow:
        page, total = uow.reports.search(query)
        return out(CitizenReportPage).dump({"items": page, "total": total, "limit": query.limit, "offset": query.offset})


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
            raise ReportOfAnotherService(
                f"report {report.id} is about another service", {"report_id": report.id, "service_id": report.service_id}
            )
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
        finding = Finding(
            str(uuid.uuid4()),
            service_id,
            CATEGORY_PRINCIPLES[category],
            "minor",
            policy.threshold_summary(len(reports), category),
            THRESHOLD_ACTOR,
            now,
            threshold_category=category,
        )
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


# ---- the journal as others hold it --------------------------------------------------------------------
# The journal as others hold it: its export (JSON Lines that anyone can verify with a few lines of
# Python, docs/verify-journal.md) and the checkpoints of its head published on spc.events.

DEFAULT_CHECKPOINT_SECONDS = 300


def export_journal(uow, write, after=0, batch=1000):
    """`write(line)` each chained entry after seq `after`, in order, up to the head as it stood when
    the export began (entries chained meanwhile are for the next export). Each batch is read in a
    transaction of its own, so a long export never holds SQLite's write lock for long: the rows
    read never change (the journal is append-only). Returns (entries written, the last one's seq,
    its hash), or (0, `after`, None) when there is nothing after `after`."""
    with uow:
        upto = uow.journal.length()
    count, last_seq, last_hash = 0, after, None
    while True:
        with uow:
            entries = [e for e in uow.journal.entry_batch(last_seq, batch) if e.seq <= upto]
        for entry in entries:
            write(journal.export_line(entry) + "\n")
        if entries:
            count, last_seq, last_hash = count + len(entries), entries[-1].seq, entries[-1].hash
        if len(entries) < batch:
            return count, last_seq, last_hash


def checkpoint_journal(uow, every_seconds=DEFAULT_CHECKPOINT_SECONDS, now=None):
    """Publish the chain's head (audit.journal_checkpoint, through the outbox) if a checkpoint is
    due (domain/journal.JournalHead.checkpoint). Returns the seq published, or None."""
    now = now or utcnow()
    with uow:
        head = uow.journal.head(for_update=True)
        if head is None or not head.checkpoint(now, every_seconds, uow.journal.moved_since(head.checkpoint_seq)):
            return None
        uow.commit()
        return head.seq
