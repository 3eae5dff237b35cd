"""Every answer a use case gives is exactly what openapi.yaml shows for its operation: no key the
document does not declare, every key it declares (but those a list's items or an answer may leave
out, named below), each of its type. The answers are the dumps of the `*Out` schemas the
operations declare; this holds the code to the document, key by key, on in-memory units of work."""

import json
from datetime import date, datetime

import jsonschema
import pytest

from spc.services.audit import handlers as audit
from spc.services.audit.domain.commands import (
    AnswerFinding,
    DismissReport,
    EscalateFinding,
    RecordFinding,
    ReportFilter,
    ReportRemediationDone,
    ResolveFinding,
)
from spc.services.distribution import handlers as distribution
from spc.services.distribution import public as public_distribution
from spc.services.funding import handlers as funding
from spc.services.funding import public as public_funding
from spc.services.funding.domain import commands as money
from spc.services.funding.domain.approvals import DualControl
from spc.services.registry import handlers as registry
from spc.services.registry import public as public_registry
from spc.services.registry.domain import commands
from spc.services.registry.domain.pact import Pact
from spc.shared.web.auth import Actor
from spc.shared.messaging.consumer import apply_once
from spc.shared.web.edge import serve
from spc.shared.web.http import Call, json_response
from tests.api.document import DOC  # openapi.yaml as its readers use it
from tests.pacts import full_pact
from tests.unit import test_audit_handlers as audit_facts
from tests.unit.fakes import (
    FakeAuditUnitOfWork,
    FakeDistributionUnitOfWork,
    FakeFundingUnitOfWork,
    FakeRegistryUnitOfWork,
    standing,
    wire,
)

# what an answer may leave out: a resource's history shows in single-resource answers only; the
# dossier's report texts are for auditors; the journal check says one of its two; a person's
# role, e-mail and phone, a counterpart's SIREN and COG, an evaluation date, as the pact gives them
MAY_LACK = {
    "*": {"history"},
    "ReportCountsOut": {"items"},
    "JournalCheck": {"length", "first_bad_seq"},
    "PersonOut": {"role", "email", "phone"},
    "CounterpartOut": {"siren", "cog"},
    "TermOut": {"evaluation_on"},
}


def _exact(components):
    """The document's answer schemas closed: every property required (but MAY_LACK), no other."""
    closed = json.loads(json.dumps(components))
    for name, schema in closed["schemas"].items():
        if "properties" in schema:
            schema["additionalProperties"] = False
            schema["required"] = sorted(set(schema["properties"]) - MAY_LACK["*"] - MAY_LACK.get(name, set()))
    return closed


COMPONENTS = _exact(DOC["components"])


def fits(method, path, answer):
    """The answer, as the wire carries it, is exactly what the operation's success answer shows."""
    op = DOC["paths"][path][method.lower()]
    status = next(s for s in op["responses"] if s.startswith("2"))
    schema = dict(op["responses"][status]["content"]["application/json"]["schema"], components=COMPONENTS)
    on_the_wire = json.loads(json_response(answer).get_data())
    jsonschema.validate(on_the_wire, schema, cls=jsonschema.Draft202012Validator)
    return answer


def staff(uow, role, label="x"):
    return serve(uow, Call(Actor(role, label), correlation_id="corr-1"))


def test_the_registry_s_answers_are_the_document_s():
    uow = staff(FakeRegistryUnitOfWork(), "registrar")
    pact = Pact.from_dict(full_pact())
    sid = fits("POST", "/services", registry.register_service(uow, commands.RegisterService(pact, "registrar/x")))["id"]
    fits("POST", "/services/{service_id}/approve", registry.approve_service(uow, commands.ApproveService(sid, "r/x")))
    fits("GET", "/services/{service_id}", registry.get_service(uow, sid))
    fits("GET", "/services", registry.list_services(uow))
    amendment = fits(
        "POST",
        "/services/{service_id}/amendments",
        registry.propose_amendment(
            uow, commands.ProposeAmendment(sid, {"referral": "Appeler le 02 99 00 00 00"}, "samedi", "r/x")
        ),
    )
    fits(
        "POST",
        "/services/{service_id}/amendments/{amendment_id}/approve",
        registry.approve_amendment(uow, commands.DecideAmendment(sid, amendment["id"], "r/y")),
    )
    other = registry.propose_amendment(uow, commands.ProposeAmendment(sid, {"referral": "Autre"}, "essai", "r/x"))
    fits(
        "POST",
        "/services/{service_id}/amendments/{amendment_id}/reject",
        registry.reject_amendment(uow, commands.DecideAmendment(sid, other["id"], "r/y", "non")),
    )
    fits("GET", "/services/{service_id}/amendments", registry.list_amendments(uow, sid))
    fits("GET", "/services/{service_id}/pact", registry.get_pact(uow, sid))
    fits("GET", "/services/{service_id}/pact", registry.get_pact(uow, sid, 1))
    fits("GET", "/public/services/{service_id}", public_registry.public_service(uow, sid))
    fits("GET", "/public/services", public_registry.public_services(uow))
    fits("POST", "/services/{service_id}/revoke", registry.revoke_service(uow, commands.RevokeService(sid, "fin", "r/x")))


def test_a_suspended_service_s_public_answer_is_the_document_s():
    from tests.unit.test_public_views import active, decide

    uow = FakeRegistryUnitOfWork()
    sid = active(uow)
    decide(uow, sid, 1, 1, "neutrality")
    answer = fits("GET", "/public/services/{service_id}", public_registry.public_service(uow, sid))
    assert answer["suspension"]["principle"] == "neutrality"


TRANCHES = [
    {"amount_cents": 100_000, "due_date": date(2026, 1, 15), "milestone": "opening"},
    {"amount_cents": 50_000, "due_date": date(2026, 6, 15)},
]
NOW = datetime(2026, 7, 1, 9, 0)


def test_funding_s_answers_are_the_document_s():
    uow = staff(FakeFundingUnitOfWork(), "funding_officer")
    fits("GET", "/services/{service_id}/funding", funding.service_funding(uow, "s1"))
    fits("GET", "/public/services/{service_id}/funding", public_funding.public_funding(uow, "s1"))
    apply_once(uow, standing("s1", "active", 2), funding.EVENT_HANDLERS["registry.service_approved"])
    programme = fits(
        "POST",
        "/programmes",
        funding.create_programme(
            uow,
            money.CreateProgramme(
                "Petite enfance", 1_000_000, "fo/x", {"name": "Ville de Rennes", "siret": "21350238800019"}, "Décret"
            ),
        ),
    )
    fits("POST", "/programmes", funding.create_programme(uow, money.CreateProgramme("Sans", 500, "fo/x")))
    pid = programme["id"]
    grant = fits("POST", "/grants", funding.award_grant(uow, money.AwardGrant(pid, "s1", TRANCHES, "fo/x")))
    fits(
        "POST",
        "/tranches/{tranche_id}/release",
        funding.release_tranche(uow, money.ReleaseTranche(grant["tranches"][0]["id"], "fo/x", "CR-1"), now=NOW),
    )
    fits(
        "POST",
        "/programmes/{programme_id}/budget",
        funding.raise_budget(uow, money.RaiseBudget(pid, 2_000_000, "fo/x", "rallonge")),
    )
    fits("GET", "/programmes/{programme_id}", funding.get_programme(uow, pid))
    fits("GET", "/programmes", funding.list_programmes(uow))
    fits("GET", "/public/programmes", funding.list_programmes(uow))
    fits("GET", "/public/programmes/{programme_id}", public_funding.public_programme(uow, pid))
    dual = DualControl(threshold_cents=10, expiry_seconds=3600)
    asked = fits(
        "POST",
        "/approvals",
        funding.request_approval(
            uow, money.RequestApproval("budget_raise", pid, "fo/alice", "alice", "encore", budget_cents=3_000_000), dual, now=NOW
        ),
    )
    fits("GET", "/approvals", funding.list_approvals(uow))
    fits("GET", "/approvals/{approval_id}", funding.get_approval(uow, asked["id"]))
    fits(
        "POST",
        "/approvals/{approval_id}/approve",
        funding.approve(uow, money.DecideApproval(asked["id"], "fo/bob", "bob"), now=NOW),
    )
    other = funding.request_approval(
        uow, money.RequestApproval("grant_revocation", grant["id"], "fo/alice", "alice", "fin"), dual, now=NOW
    )
    fits(
        "POST",
        "/approvals/{approval_id}/reject",
        funding.reject(uow, money.DecideApproval(other["id"], "fo/bob", "bob", "non"), now=NOW),
    )
    fits("POST", "/grants/{grant_id}/revoke", funding.revoke_grant(uow, money.RevokeGrant(grant["id"], "fo/x", "fin")))
    fits("GET", "/services/{service_id}/funding", funding.service_funding(uow, "s1"))
    apply_once(uow, standing("s1", "suspended", 3), funding.EVENT_HANDLERS["registry.service_suspended"])
    public = fits("GET", "/public/services/{service_id}/funding", public_funding.public_funding(uow, "s1"))
    assert public["suspended_since"] is not None and public["released_cents"] == 100_000


COUNTER = {
    "counter_id": "212",
    "name": "France Services Rennes",
    "commune_insee": "35238",
    "department": "35",
    "address": "1 place de la Mairie",
    "lat": 48.11,
    "lon": -1.68,
    "type": "principal",
    "email": "rennes@example.fr",
    "phone": "02 99 00 00 00",
    "hours": {"lundi": ["09:00-12:00"]},
}


def test_distribution_s_answers_are_the_document_s():
    uow = FakeDistributionUnitOfWork()
    apply_once(uow, wire("counter.upserted", COUNTER), distribution.COUNTER_HANDLERS["counter.upserted"])
    event = wire(
        "registry.service_approved",
        {
            "service_id": "s1",
            "name": "Crèche",
            "status": "active",
            "version": 2,
            "territories": {"departments": ["35"]},
            "mission": "Accueil",
            "domains": ["petite_enfance"],
            "contact_email": "c@example.fr",
            "referral": "Appeler",
            "commitments": [{"principle": "equality", "text": "Par date de demande."}, {"principle": "continuity"}],
        },
    )
    apply_once(uow, event, distribution.STANDING_HANDLERS[event.event_type])
    fits("GET", "/counters", distribution.search_counters(uow))
    catalogue = fits("GET", "/counters/{counter_id}/catalogue", distribution.counter_catalogue(uow, "212"))
    assert catalogue["items"][0]["commitments"][1] == {"principle": "continuity", "text": None}
    fits("GET", "/public/counters", public_distribution.public_counters(uow))
    fits("GET", "/public/counters/{counter_id}/catalogue", public_distribution.public_catalogue(uow, "212"))
    fits("GET", "/services/{service_id}/listings", distribution.service_listings(uow, "s1"))
    relayed = distribution.relay_report(
        staff(uow, "counter_agent", "212"), "212", {"service_id": "s1", "category": "other", "text": "Fermé"}
    )
    fits("POST", "/counters/{counter_id}/reports", relayed)


def test_audit_s_answers_are_the_document_s():
    uow = FakeAuditUnitOfWork()
    audit_facts.pact(uow, 2, {"equality": "Places by date of request.", "neutrality": "No leaflets."})
    audit_facts.facts(uow, audit_facts.report(), audit_facts.report(text="Closed on a weekday."))
    staff(uow, "auditor")
    [first, second] = audit.list_reports(uow, ReportFilter())["items"]
    fits("GET", "/reports", audit.list_reports(uow, ReportFilter()))
    fits("POST", "/reports/{report_id}/dismiss", audit.dismiss_report(uow, DismissReport(first["id"], "doublon", "auditor/x")))
    finding = fits(
        "POST",
        "/findings",
        audit.record_finding(
            uow, RecordFinding("s1", "equality", "minor", "Waiting list opaque", "auditor/x", report_ids=(second["id"],))
        ),
    )
    path = "/services/{service_id}/findings/{finding_id}"
    fits(
        "POST",
        path + "/answer",
        audit.answer_finding(uow, AnswerFinding("s1", finding["id"], "Publish it", date(2027, 1, 1), "service/s1")),
    )
    fits(
        "POST",
        path + "/done",
        audit.report_remediation_done(uow, ReportRemediationDone("s1", finding["id"], "service/s1", "Published")),
    )
    fits(
        "POST",
        "/findings/{finding_id}/escalate",
        audit.escalate_finding(uow, EscalateFinding(finding["id"], "too slow", "auditor/x")),
    )
    fits(
        "POST",
        "/findings/{finding_id}/resolve",
        audit.resolve_finding(uow, ResolveFinding(finding["id"], "Checked", "auditor/x")),
    )
    fits("GET", "/services/{service_id}/findings", audit.service_findings(uow, "s1"))
    fits("GET", "/services/{service_id}/dossier", audit.dossier(uow, "s1", Actor("auditor", "x")))
    fits("GET", "/services/{service_id}/dossier", audit.dossier(uow, "s1", Actor("service", "s1")))
    fits("GET", "/journal/verify", audit.verify_journal(uow))


@pytest.mark.parametrize("extra", [{"surprise": 1}, {}])
def test_the_check_itself_refuses_a_key_too_many_and_a_key_missing(extra):
    answer = funding.service_funding(FakeFundingUnitOfWork(), "s1")
    broken = {**answer, **extra} if extra else {k: v for k, v in answer.items() if k != "frozen"}
    with pytest.raises(jsonschema.ValidationError):
        fits("GET", "/services/{service_id}/funding", broken)
