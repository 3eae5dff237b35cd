"""Audit's use cases on an in-memory unit of work: no database, no broker."""

from datetime import timedelta

import pytest

from spc.services.audit import handlers
from spc.services.audit.domain.commands import RecordFinding, ResolveFinding
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_batch, apply_once
from spc.shared.core.errors import Conflict, NotFound, NotYetKnown
from spc.shared.web.http import http_status
from tests.unit.fakes import FakeAuditUnitOfWork, standing, wire


@pytest.fixture
def uow():
    return FakeAuditUnitOfWork()


def known(uow, sid="s1", status="active", version=2):
    event = standing(sid, status, version)
    apply_once(uow, event, handlers.STANDING_HANDLERS[event.event_type])


def pact(uow, version, texts, event_type="registry.service_approved", status="active", pact_version=1, sid="s1"):
    """A standing carrying the pact's commitments ({principle: text})."""
    event = wire(
        event_type,
        {
            "service_id": sid,
            "name": "Crèche Les Lutins",
            "status": status,
            "version": version,
            "territories": {"departments": ["35"]},
            "pact_version": pact_version,
            "commitments": [{"principle": p, "text": t} for p, t in texts.items()],
        },
    )
    return apply_once(uow, event, handlers.STANDING_HANDLERS[event_type])


def violation(sid="s1", severity="major"):
    return wire(
        "compliance.violation_reported",
        {
            "service_id": sid,
            "principle": "neutrality",
            "severity": severity,
            "summary": "Political leaflets handed out",
            "reported_by": "inspection-35",
        },
    )


def report(sid="s1", text="Registration refused without a reason."):
    return wire("usager.report_submitted", {"service_id": sid, "category": "refused_access", "text": text})


def facts(uow, *events):
    return apply_batch(uow, list(events), handlers.apply_facts)


def test_a_major_violation_about_a_known_service_is_a_confirmed_violation(uow):
    known(uow)
    facts(uow, violation())
    assert uow.outbox.types() == ["audit.finding_recorded", "audit.violation_confirmed"]
    assert uow.outbox.events[-1].payload["open_violations"] == 1
    assert handlers.service_findings(uow, "s1")["findings"][0]["is_violation"]


def test_a_violation_about_a_service_not_known_yet_waits_and_applies_when_the_registry_speaks(uow):
    facts(uow, violation("s-new"))
    assert uow.outbox.events == [] and uow.audit.parked_count() == 1
    known(uow, "s-new")
    assert uow.outbox.types() == ["audit.finding_recorded", "audit.violation_confirmed"]
    assert uow.audit.parked_count() == 0


def test_a_citizen_report_about_a_known_service_is_stored_for_triage_and_publishes_nothing(uow):
    known(uow)
    facts(uow, report(), report(text="Closed on a weekday."))
    assert [(r.service_id, r.category, r.status) for r in uow.reports.rows] == [("s1", "refused_access", "new")] * 2
    assert {r.text for r in uow.reports.rows} == {"Registration refused without a reason.", "Closed on a weekday."}
    assert uow.outbox.events == []


def test_a_report_about_an_unknown_service_waits_for_it_too(uow):
    facts(uow, report("s-new"))
    assert uow.reports.rows == []
    known(uow, "s-new")
    assert [r.service_id for r in uow.reports.rows] == ["s-new"]


def test_a_redelivered_fact_is_applied_once(uow):
    known(uow)
    event = violation()
    assert facts(uow, event) == 1 and facts(uow, event) == 0
    assert handlers.service_findings(uow, "s1")["open_violations"] == 1


def test_inbound_facts_are_journaled_as_received_and_chained(uow):
    known(uow)
    facts(uow, violation(), report())
    assert handlers.chain_journal(uow, batch=1) == 2
    assert handlers.verify_journal(uow) == {"ok": True, "length": 2}


def test_a_staff_finding_needs_a_known_service(uow):
    cmd = RecordFinding("s-new", "equality", "minor", "Waiting list opaque", "auditor/x")
    with pytest.raises(NotYetKnown) as err:
        handlers.record_finding(uow, cmd, wait_seconds=0.05)
    assert (err.value.code, http_status(type(err.value))) == ("unknown_service", 404)
    known(uow, "s-new")
    finding = handlers.record_finding(uow, cmd)
    assert not finding["is_violation"] and finding["remediation_deadline"]


def test_resolving_the_last_violation_announces_it_once(uow):
    known(uow)
    facts(uow, violation())
    finding_id = handlers.service_findings(uow, "s1")["findings"][0]["id"]
    resolved = handlers.resolve_finding(uow, ResolveFinding(finding_id, "Leaflets withdrawn", "auditor/x"))
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "auditor/x"
    assert uow.outbox.events[-1].event_type == "audit.violation_resolved"
    assert uow.outbox.events[-1].payload["open_violations"] == 0
    with pytest.raises(Conflict):
        handlers.resolve_finding(uow, ResolveFinding(finding_id, "again", "auditor/x"))
    with pytest.raises(NotFound):
        handlers.resolve_finding(uow, ResolveFinding("nope", "x", "auditor/x"))


def test_a_minor_finding_still_open_at_its_deadline_becomes_a_violation(uow):
    known(uow)
    facts(uow, violation(severity="minor"))
    assert handlers.escalate_overdue(uow, utcnow()) == 0
    assert handlers.escalate_overdue(uow, utcnow() + timedelta(days=31)) == 1
    assert uow.outbox.types()[-1] == "audit.violation_confirmed"
    assert handlers.service_findings(uow, "s1")["findings"][0]["escalated"]


def test_a_fact_about_a_service_that_never_appears_is_dead_lettered_after_the_window(uow):
    event = violation("ghost")
    facts(uow, event)
    refused = []
    assert handlers.expire_parked(uow, 60, lambda fact, why: refused.append((fact.event_id, why.code))) == 0
    later = utcnow() + timedelta(seconds=61)
    assert handlers.expire_parked(uow, 60, lambda fact, why: refused.append((fact.event_id, why.code)), later) == 1
    assert refused == [(str(event.event_id), "unknown_service")]
    assert uow.audit.compliances == {}  # the placeholder went with it
    assert facts(uow, event) == 1  # forgotten by the inbox: a replay is applied


def test_findings_of_a_service_audit_never_heard_of_are_not_found(uow):
    with pytest.raises(NotFound):
        handlers.service_findings(uow, "nobody")


def test_standings_give_only_the_services_audit_has_heard_of(uow):
    known(uow)
    facts(uow, violation("s-parked"))  # a placeholder, not yet known
    assert handlers.standings(uow, "", 10) == [
        {"service_id": "s1", "known": True, "status": "active", "version": 2, "open_violations": 0, "audit_version": 0}
    ]


def test_a_finding_shows_the_service_s_commitment_to_its_principle(uow):
    pact(uow, 2, {"neutrality": "No political or religious material at the desk.", "equality": "Same fees."})
    facts(uow, violation())
    finding = handlers.service_findings(uow, "s1")["findings"][0]
    assert finding["commitment"] == {
        "principle": "neutrality",
        "pact_version": 1,
        "text": "No political or religious material at the desk.",
    }
    resolved = handlers.resolve_finding(uow, ResolveFinding(finding["id"], "Leaflets withdrawn", "auditor/x"))
    assert resolved["commitment"] == finding["commitment"]


def test_a_finding_s_commitment_is_null_while_audit_does_not_know_the_text(uow):
    known(uow)  # a standing with no commitments (as a contract-1.0 event)
    finding = handlers.record_finding(uow, RecordFinding("s1", "equality", "minor", "Waiting list opaque", "auditor/x"))
    assert finding["commitment"] is None


def test_an_amended_pact_s_text_replaces_the_old_one_and_a_late_older_standing_does_not(uow):
    pact(uow, 2, {"neutrality": "No leaflets."})
    facts(uow, violation())
    pact(uow, 5, {"neutrality": "No leaflets, posters or badges."}, "registry.pact_amended", "suspended", 2)
    pact(uow, 3, {"neutrality": "No leaflets."}, "registry.service_suspended", "suspended")  # late
    assert handlers.service_findings(uow, "s1")["findings"][0]["commitment"] == {
        "principle": "neutrality",
        "text": "No leaflets, posters or badges.",
        "pact_version": 2,
    }


def test_standings_follow_an_expired_pact(uow):
    pact(uow, 2, {"neutrality": "No leaflets."})
    pact(uow, 3, {"neutrality": "No leaflets."}, "registry.service_expired", "expired")
    assert [(s["status"], s["version"]) for s in handlers.standings(uow, "", 10)] == [("expired", 3)]


def test_a_head_past_the_last_chained_entry_is_reported_at_the_first_missing_seq(uow, monkeypatch):
    """The head says more entries were chained than the journal holds (its last ones lost):
    the verification names the first one missing."""
    known(uow)
    facts(uow, violation(), report())
    handlers.chain_journal(uow)
    monkeypatch.setattr(uow.journal, "length", lambda: 5)
    assert handlers.verify_journal(uow) == {"ok": False, "first_bad_seq": 3}  # two chained
    facts(uow, violation())
    handlers.chain_journal(uow)
    assert handlers.verify_journal(uow) == {"ok": False, "first_bad_seq": 4}  # three chained


def test_a_long_journal_verifies_up_to_its_head(uow):
    known(uow)
    facts(uow, *[violation() for _ in range(300)])
    handlers.chain_journal(uow)
    assert handlers.verify_journal(uow) == {"ok": True, "length": 300}
