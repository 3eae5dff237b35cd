"""A service's dossier: what an inspector needs in one answer. The pact versions audit has heard
of, the findings with their answers and deadlines, the citizen reports counted (their texts for
auditors only), the decisions, and the journal entries about the service by sequence number."""
import json
from types import SimpleNamespace

from .domain.commands import ReportFilter
from .exceptions import ServiceNotKnown
from .schemas import DossierOut
from .views import findings_seen

DECISIONS = ("audit.violation_confirmed", "audit.violation_resolved")
REPORT_ITEMS = 500  # the newest, in an auditor's dossier; GET /reports pages through them all


def dossier(uow, service_id, reader, journal_after=0, journal_limit=500):
    """`reader`: the caller (an Actor); report texts are shown to auditors only."""
    with uow:
        compliance = uow.audit.compliance(service_id)
        if compliance is None or not compliance.known:
            raise ServiceNotKnown(f"no service {service_id} known to audit", {"service_id": service_id})
        return DossierOut().dump({
            "service_id": service_id, "registry_status": compliance.registry_status,
            "open_violations": compliance.open_violations, "audit_version": compliance.audit_version,
            "pact_versions": uow.audit.pact_versions(service_id),
            "findings": findings_seen(uow, uow.audit.findings_of(service_id), compliance),
            "reports": _reports(uow, service_id, with_texts=reader is not None and reader.role == "auditor"),
            "decisions": [_decision(e) for e in uow.journal.concerning(service_id, 0, 100_000, DECISIONS)],
            "journal": _journal(uow, service_id, journal_after, journal_limit)})


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
    return {"seq": entry.seq, "decision": entry.event_type.rsplit("_", 1)[-1], "finding_id": p.get("finding_id"),
            "open_violations": p.get("open_violations"), "audit_version": p.get("audit_version"),
            "at": body.get("occurred_at"), "by": body.get("actor")}


def _journal(uow, service_id, after, limit):
    entries = uow.journal.concerning(service_id, after, limit)
    return {"total": uow.journal.count_concerning(service_id),
            "entries": [_entry(e) for e in entries],
            "next_after": entries[-1].seq if len(entries) == limit else None}


def _entry(e):
    return {"seq": e.seq, "event_id": e.event_id, "event_type": e.event_type, "recorded_at": e.recorded_at,
            "finding_id": json.loads(e.body)["payload"].get("finding_id")}
