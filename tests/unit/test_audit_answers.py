"""The service's own voice and the dossier, on the in-memory unit of work: a service answers its
finding with a plan and a date and reports it done, an auditor resolves or escalates it, each step
an event; the dossier shows an inspector everything, report texts to auditors only; scoped tokens
act on their own service only."""

from datetime import date, datetime, timedelta

import pytest

from spc.services.audit import handlers
from spc.services.audit.domain.commands import (
    AnswerFinding,
    EscalateFinding,
    RecordFinding,
    ReportRemediationDone,
    ResolveFinding,
)
from spc.services.audit.domain.model import Compliance, Finding
from spc.services.audit.domain.reports import ReportPolicy
from spc.services.audit.schemas import DossierOut, FindingOut
from spc.services.audit.service import AuditService
from spc.shared.web.auth import Actor
from spc.shared.messaging.consumer import apply_batch
from spc.shared.core.errors import Conflict, Forbidden, NotFound
from tests.unit.fakes import FakeAuditUnitOfWork
from tests.unit.test_audit_handlers import facts, pact, report, violation

SERVICE = "service/s1"
TOMORROW = date.today() + timedelta(days=1)
AUDITOR, VIEWER, OWN = Actor("auditor", "inspection-35"), Actor("viewer", "x"), Actor("service", "s1")


@pytest.fixture
def uow():
    u = FakeAuditUnitOfWork()
    pact(u, 2, {"equality": "Places by date of request.", "neutrality": "No leaflets."})
    pact(u, 3, {"equality": "Places by date of request, published monthly."}, "registry.pact_amended", pact_version=2)
    return u


def minor(uow, sid="s1"):
    return handlers.record_finding(uow, RecordFinding(sid, "equality", "minor", "Waiting list opaque", "auditor/x"))["id"]


def answer(uow, finding_id, sid="s1", due_on=TOMORROW, actor=SERVICE):
    return handlers.answer_finding(uow, AnswerFinding(sid, finding_id, "Publish the list monthly", due_on, actor))


def done(uow, finding_id, sid="s1", actor=SERVICE):
    return handlers.report_remediation_done(uow, ReportRemediationDone(sid, finding_id, actor, "Published"))


def test_the_service_answers_reports_done_and_the_auditor_resolves_each_step_an_event(uow):
    finding_id = minor(uow)
    answered = answer(uow, finding_id)
    assert answered["answer"] == {
        "plan": "Publish the list monthly",
        "due_on": TOMORROW.isoformat(),
        "answered_by": SERVICE,
        "answered_at": answered["answer"]["answered_at"],
        "done_at": None,
        "done_by": None,
        "done_note": None,
    }
    finished = done(uow, finding_id)
    assert finished["answer"]["done_by"] == SERVICE and finished["answer"]["done_note"] == "Published"
    resolved = handlers.resolve_finding(uow, ResolveFinding(finding_id, "Checked", "auditor/x"))
    assert resolved["status"] == "resolved" and resolved["answer"]["done_at"]
    assert uow.outbox.types()[-3:] == ["audit.finding_answered", "audit.remediation_reported", "audit.finding_resolved"]
    answered_event = uow.outbox.events[-3]
    assert answered_event.payload["due_on"] == TOMORROW.isoformat() and answered_event.payload["plan"]
    FindingOut().load(resolved)  # the documented shape, no more


def test_a_service_acts_only_on_its_own_findings(uow):
    pact(uow, 2, {"equality": "Same fees."}, sid="s2")
    theirs = minor(uow, "s2")
    with pytest.raises(NotFound):
        answer(uow, theirs, sid="s1")  # the path says s1 (the token's), the finding is s2's
    with pytest.raises(NotFound):
        done(uow, theirs, sid="s1")


@pytest.mark.parametrize(
    "step,code",
    [
        ("done before answering", "not_answered"),
        ("done twice", "remediation_already_reported"),
        ("answer a resolved finding", "already_resolved"),
    ],
)
def test_the_service_s_steps_come_in_order(uow, step, code):
    finding_id = minor(uow)
    if step == "done twice":
        answer(uow, finding_id)
        done(uow, finding_id)
    if step == "answer a resolved finding":
        handlers.resolve_finding(uow, ResolveFinding(finding_id, "Checked", "auditor/x"))
    with pytest.raises(Conflict) as err:
        if step.startswith("done"):
            done(uow, finding_id)
        else:
            answer(uow, finding_id)
    assert err.value.code == code


def test_a_new_answer_replaces_the_plan_and_asks_for_done_again(uow):
    finding_id = minor(uow)
    answer(uow, finding_id)
    done(uow, finding_id)
    again = handlers.answer_finding(uow, AnswerFinding("s1", finding_id, "Publish it weekly", TOMORROW, SERVICE))
    assert again["answer"]["plan"] == "Publish it weekly" and again["answer"]["done_at"] is None
    assert done(uow, finding_id)["answer"]["done_at"]


def test_an_auditor_escalates_a_minor_finding_to_a_violation_once(uow):
    finding_id = minor(uow)
    answer(uow, finding_id)
    escalated = handlers.escalate_finding(uow, EscalateFinding(finding_id, "Plan not credible", "auditor/x"))
    assert escalated["is_violation"] and escalated["escalated"]
    assert escalated["escalation"] == {"at": escalated["escalation"]["at"], "by": "auditor/x", "reason": "Plan not credible"}
    assert uow.outbox.types()[-2:] == ["audit.finding_escalated", "audit.violation_confirmed"]
    assert uow.outbox.events[-1].payload["open_violations"] == 1
    with pytest.raises(Conflict) as err:
        handlers.escalate_finding(uow, EscalateFinding(finding_id, "again", "auditor/x"))
    assert err.value.code == "already_a_violation"


def test_a_major_finding_is_a_violation_already_and_a_resolved_one_cannot_be_escalated(uow):
    facts(uow, violation())
    major = handlers.service_findings(uow, "s1")["findings"][0]["id"]
    with pytest.raises(Conflict, match="violation already"):
        handlers.escalate_finding(uow, EscalateFinding(major, "x", "auditor/x"))
    resolved = minor(uow)
    handlers.resolve_finding(uow, ResolveFinding(resolved, "Checked", "auditor/x"))
    with pytest.raises(Conflict, match="already resolved"):
        handlers.escalate_finding(uow, EscalateFinding(resolved, "x", "auditor/x"))


def test_the_deadline_escalation_is_the_same_step_without_an_auditor():
    c, now = Compliance("s1", known=True), datetime(2027, 1, 1)
    f = Finding("f1", "s1", "equality", "minor", "x", "auditor", now)
    c.record(f)
    assert c.escalate(f, now + timedelta(days=30))
    assert (f.escalated_by, f.escalation_reason) == (None, "the remediation deadline passed")
    assert [e.event_type for e in c.pull_events()][-2:] == ["audit.finding_escalated", "audit.violation_confirmed"]


def journal_everything(uow):
    """What audit published comes back through spc.events to its journal lane (as the relay and
    the broker would do it), and is chained."""
    apply_batch(uow, list(uow.outbox.events), handlers.JOURNAL.apply, inbox="journal")
    handlers.chain_journal(uow)


def test_the_dossier_gives_an_inspector_everything_and_report_texts_to_auditors_only(uow):
    finding_id = minor(uow)
    answer(uow, finding_id)
    facts(uow, report(), report(text="Closed on a weekday."))
    handlers.open_threshold_findings(uow, ReportPolicy(threshold=2))
    facts(uow, violation())
    journal_everything(uow)
    full = handlers.dossier(uow, "s1", AUDITOR)
    DossierOut().load(full)
    assert [v["pact_version"] for v in full["pact_versions"]] == [1, 2]
    assert full["pact_versions"][1]["commitments"] == [
        {"principle": "equality", "text": "Places by date of request, published monthly."}
    ]
    assert len(full["findings"]) == 3 and full["findings"][0]["answer"]["plan"] == "Publish the list monthly"
    assert full["reports"]["by_category"] == {"refused_access": 2} and full["reports"]["by_status"] == {"finding": 2}
    assert {r["text"] for r in full["reports"]["items"]} == {"Registration refused without a reason.", "Closed on a weekday."}
    [decision] = full["decisions"]
    assert (decision["decision"], decision["open_violations"], decision["audit_version"]) == ("confirmed", 1, 1)
    types = [e["event_type"] for e in full["journal"]["entries"]]
    assert {
        "audit.finding_recorded",
        "audit.finding_answered",
        "usager.report_submitted",
        "audit.report_triaged",
        "audit.violation_confirmed",
    } <= set(types)
    assert full["journal"]["total"] == len(types) and full["journal"]["next_after"] is None
    assert decision["seq"] in [e["seq"] for e in full["journal"]["entries"]]
    for reader in (VIEWER, OWN):
        seen = handlers.dossier(uow, "s1", reader)
        assert "items" not in seen["reports"] and seen["reports"]["total"] == 2
        assert "Closed on a weekday." not in str(seen)


def test_the_dossier_s_journal_comes_in_pages(uow):
    finding_id = minor(uow)
    answer(uow, finding_id)
    done(uow, finding_id)
    journal_everything(uow)
    first = handlers.dossier(uow, "s1", VIEWER, journal_limit=2)["journal"]
    rest = handlers.dossier(uow, "s1", VIEWER, journal_after=first["next_after"], journal_limit=2)["journal"]
    assert [e["seq"] for e in first["entries"]] == [1, 2] and [e["seq"] for e in rest["entries"]] == [3]
    assert rest["next_after"] is None


def test_the_dossier_of_a_service_audit_never_heard_of_is_not_found(uow):
    with pytest.raises(NotFound):
        handlers.dossier(uow, "nobody", AUDITOR)


def declared(method):
    [entrypoint] = getattr(AuditService, method).nameko_entrypoints
    return entrypoint


@pytest.mark.parametrize("method", ["service_dossier", "service_findings", "answer_finding", "report_remediation_done"])
def test_a_service_token_reads_and_answers_for_its_own_service_only(method):
    ep = declared(method)
    path = {"service_id": "s1", "finding_id": "f1"}
    ep._authorise(OWN, path)
    ep._authorise(AUDITOR, {**path, "service_id": "s2"})
    with pytest.raises(Forbidden):
        ep._authorise(OWN, {**path, "service_id": "s2"})
    with pytest.raises(Forbidden):
        ep._authorise(Actor("counter_agent", "s1"), path)


@pytest.mark.parametrize("method", ["list_reports", "dismiss_report", "escalate_finding", "resolve_finding", "record_finding"])
def test_only_auditors_triage_reports_and_decide(method):
    ep = declared(method)
    path = {"report_id": "r1", "finding_id": "f1"}
    ep._authorise(AUDITOR, path)
    for actor in (OWN, VIEWER, Actor("registrar", "x")):
        with pytest.raises(Forbidden):
            ep._authorise(actor, path)


def test_the_dossier_is_read_by_any_staff_role_and_the_service_itself_texts_by_auditors_only(uow):
    for reader in (VIEWER, Actor("registrar", "x"), OWN):
        declared("service_dossier")._authorise(reader, {"service_id": "s1"})
    with pytest.raises(Forbidden):
        declared("service_dossier")._authorise(Actor("service", "s2"), {"service_id": "s1"})
    facts(uow, report())
    assert "items" in handlers.dossier(uow, "s1", AUDITOR)["reports"]
    assert "items" not in handlers.dossier(uow, "s1", Actor("registrar", "x"))["reports"]


def test_an_answer_due_after_the_deadline_does_not_move_it():
    """docs/audit.md: the service's plan and date do not move the remediation deadline; still
    open at the deadline, the finding escalates (the auditor resolves it once checked)."""
    c, now = Compliance("s1", known=True), datetime(2027, 1, 1)
    f = Finding("f1", "s1", "equality", "minor", "x", "auditor", now)
    c.record(f)
    deadline = f.remediation_deadline
    c.answer(f, "Publish the waiting list", (now + timedelta(days=60)).date(), "service/s1", now)
    assert f.remediation_deadline == deadline == now + timedelta(days=30)
    assert c.escalate(f, deadline) and f.is_violation
