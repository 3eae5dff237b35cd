"""Issue 7, part 1: a fact that arrives before its service is known is kept, not refused.

An inspection body watching the registry publishes a violation the instant a service is approved;
a citizen reports at the same moment; staff award a grant and record a finding right after the
approval. Audit hears of the service through the registry's events, which travel another way and
may come later. Every one of these must be applied, on both databases; only a fact about a service
that never appears ends in the dead-letter queue, `unknown_service`, after the window."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from spc.services.audit import orm as audit_orm
from tests.faults import story
from tests.faults.ledger import Ledger
from tests.support import Fleet, drain_queue, envelope, publish_inbound, rabbit_queue, wait_for

SERVICES = 100
WINDOW = 20  # seconds a fact about an unknown service waits (SPC_UNKNOWN_SERVICE_WINDOW)


@pytest.fixture
def early_fleet(amqp_uri, any_db_urls, tmp_path):
    fleet = Fleet(amqp_uri, any_db_urls, tmp_path, env={"SPC_UNKNOWN_SERVICE_WINDOW": str(WINDOW)})
    try:
        yield fleet
    finally:
        fleet.close()
        print(fleet.logs())


def _report(sid):
    return envelope(
        "usager.report_submitted",
        {"service_id": sid, "category": "unavailable", "text": "Closed without notice"},
        producer="vox-usagers",
    )


def _publish(amqp_uri, event):
    publish_inbound(amqp_uri, event, event["event_type"], message_id=event["event_id"])
    return event["event_id"], event["event_type"]


def test_violations_and_reports_published_at_the_instant_of_approval_are_all_applied(early_fleet, amqp_uri, any_db_urls):
    fleet = early_fleet
    fleet.start("registry", "funding", "distribution")
    # audit hears of the first registrations late, on top of the ordinary race
    fleet.start("audit", SPC_FAILPOINTS="consumer.received.audit.standings=sleep:1@40")
    api, inbound, sids = fleet.api, story.counters(amqp_uri), []
    wait_for("the counters", lambda: api.ok("GET", "distribution", "/counters")["total"] == 2)
    for i in range(SERVICES):
        sid = api.ok("POST", "registry", "/services", "registrar", dict(story.PACT, name=f"Crèche {i}"))["id"]
        api.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
        inbound.append(story.violation(amqp_uri, sid))  # the instant the approval is answered
        inbound.append(_publish(amqp_uri, _report(sid)))
        sids.append(sid)

    def suspended():
        page = api.ok("GET", "registry", f"/services?status=suspended&limit={SERVICES}")
        return page["total"] == SERVICES

    wait_for(f"all {SERVICES} services suspended", suspended, timeout=120)
    for sid in sids[:3]:
        story.wait_suspended_everywhere(api, sid)
    assert rabbit_queue(amqp_uri, "spc.inbound.dead").get("messages", 0) == 0
    ledger = Ledger(any_db_urls)
    try:
        summary = ledger.check(inbound, timeout=120)
        assert summary["lost"] == 0
        with ledger.engines["audit"].connect() as conn:
            reports = conn.execute(select(func.count()).select_from(audit_orm.reports)).scalar()
            parked = conn.execute(select(func.count()).select_from(audit_orm.parked_facts)).scalar()
        assert (reports, parked) == (SERVICES, 0)
    finally:
        ledger.close()


def test_staff_acting_right_after_an_approval_simply_succeed(early_fleet):
    fleet = early_fleet
    fleet.start()
    api = fleet.api
    programme = api.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 10**8})
    made = {}
    for i in range(10):
        sid = api.ok("POST", "registry", "/services", "registrar", dict(story.PACT, name=f"Crèche {i}"))["id"]
        api.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
        grant = api.call(
            "POST",
            "funding",
            "/grants",
            "funding_officer",
            {
                "programme_id": programme["id"],
                "service_id": sid,
                "tranches": [{"amount_cents": 1000, "due_date": "2027-01-01", "milestone": "m"}],
            },
        )
        assert grant.status_code == 201, grant.text
        finding = api.call(
            "POST",
            "audit",
            "/findings",
            "auditor",
            {"service_id": sid, "principle": "continuity", "severity": "minor", "summary": "Late", "reported_by": "inspection"},
        )
        assert finding.status_code == 201, finding.text
        made[sid] = (grant.json(), finding.json())

    # the effects, read back: each grant and finding stored once, against the right service
    for sid, (grant, finding) in made.items():
        funding = api.ok("GET", "funding", f"/services/{sid}/funding")
        assert [(g["id"], g["total_cents"], [t["status"] for t in g["tranches"]]) for g in funding["grants"]] == [
            (grant["id"], 1000, ["scheduled"])
        ]
        findings = api.ok("GET", "audit", f"/services/{sid}/findings")["findings"]
        assert [(f["id"], f["principle"], f["severity"], f["status"]) for f in findings] == [
            (finding["id"], "continuity", "minor", "open")
        ]
    assert api.ok("GET", "funding", f"/programmes/{programme['id']}")["committed_cents"] == 10 * 1000


def test_a_service_that_never_appears_is_answered_retry_later_then_dead_lettered(early_fleet, amqp_uri):
    fleet = early_fleet
    fleet.start()
    api, ghost = fleet.api, str(uuid.uuid4())
    programme = api.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 10**6})
    grant = api.call(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": programme["id"],
            "service_id": ghost,
            "tranches": [{"amount_cents": 1000, "due_date": "2027-01-01", "milestone": "m"}],
        },
    )
    assert (grant.status_code, grant.headers.get("Retry-After"), grant.json()["error"]["code"]) == (
        409,
        "1",
        "service_not_active",
    )
    finding = api.call(
        "POST",
        "audit",
        "/findings",
        "auditor",
        {"service_id": ghost, "principle": "continuity", "severity": "major", "summary": "x", "reported_by": "inspection"},
    )
    assert (finding.status_code, finding.headers.get("Retry-After"), finding.json()["error"]["code"]) == (
        404,
        "1",
        "unknown_service",
    )

    violation_id, _ = story.violation(amqp_uri, ghost)
    report_id, _ = _publish(amqp_uri, _report(ghost))
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=WINDOW + 30, expect=2)
    by_id = {props.message_id: props.headers for props, _ in dead}
    assert set(by_id) == {violation_id, report_id}
    assert all(h["x-spc-rejection"].startswith("unknown_service") for h in by_id.values())
    assert by_id[violation_id]["x-spc-queue"] == "audit.compliance"
    assert by_id[report_id]["x-spc-queue"] == "audit.reports"
    body = json.loads(next(b for p, b in dead if p.message_id == violation_id))
    assert body["event_id"] == violation_id and body["payload"]["service_id"] == ghost  # the event itself
    assert api.call("GET", "audit", f"/services/{ghost}/findings").status_code == 404
