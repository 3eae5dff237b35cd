"""The rule that matters most, on the real broker: a violation suspends funding and distribution."""

import json

from tests.support import PACT, EventTap, drain_queue, envelope, metric, publish_inbound, wait_for


def register_active(spc, pact=PACT):
    sid = spc.ok("POST", "registry", "/services", "registrar", pact)["id"]
    spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    wait_for(
        "audit and funding to know the service",
        lambda: (
            spc.call("GET", "audit", f"/services/{sid}/findings").status_code == 200
            and spc.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active"
        ),
    )
    return sid


def grant(spc, sid, amounts=(100_00, 200_00, 300_00)):
    prog = spc.ok("POST", "funding", "/programmes", "funding_officer", {"name": "Programme", "budget_cents": 10_000_00})
    return spc.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": prog["id"],
            "service_id": sid,
            "tranches": [{"amount_cents": a, "due_date": f"2026-0{i + 1}-01"} for i, a in enumerate(amounts)],
        },
    )


def counter(counter_id, department="35", commune="35238"):
    return {
        "counter_id": counter_id,
        "name": f"France services {counter_id}",
        "commune_insee": commune,
        "department": department,
        "address": "1 place de la Mairie",
    }


def test_a_major_violation_suspends_funding_and_distribution_then_resolution_reinstates(spc, amqp_uri):
    tap = EventTap(amqp_uri)
    for cid in ("fs-1", "fs-2"):
        publish_inbound(amqp_uri, envelope("counter.upserted", counter(cid)), "counter.upserted")
    publish_inbound(amqp_uri, envelope("counter.upserted", counter("fs-3", "29", "29019")), "counter.upserted")
    wait_for("counters", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 3)
    sid = register_active(spc)
    g = grant(spc, sid)
    released = g["tranches"][0]["id"]
    spc.ok("POST", "funding", f"/tranches/{released}/release", "funding_officer")
    wait_for("listings", lambda: len(spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]) == 2)
    assert [s["service_id"] for s in spc.ok("GET", "distribution", "/counters/fs-1/catalogue")["services"]] == [sid]

    publish_inbound(
        amqp_uri,
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "neutrality",
                "severity": "major",
                "summary": "Political leaflets",
                "reported_by": "inspection-35",
            },
        ),
        "compliance.violation_reported",
    )

    wait_for("suspension", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
    wait_for("freeze", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["frozen"])
    funding = spc.ok("GET", "funding", f"/services/{sid}/funding")
    assert [t["status"] for t in funding["grants"][0]["tranches"]] == ["released", "frozen", "frozen"]
    wait_for(
        "withdrawal",
        lambda: {x["status"] for x in spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"withdrawn"},
    )
    assert spc.ok("GET", "distribution", "/counters/fs-1/catalogue")["services"] == []
    refused = spc.call("POST", "funding", f"/tranches/{g['tranches'][1]['id']}/release", "funding_officer")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "funding_frozen"
    # what the dashboard shows: frozen funding, withdrawn listings, each hop's delivery lag
    assert metric(spc, "funding", "spc_funding_holdings", kind="tranches", status="frozen") == 2
    assert metric(spc, "funding", "spc_funding_holdings", kind="tranche_cents", status="frozen") > 0
    assert metric(spc, "distribution", "spc_distribution_holdings", kind="listings", status="withdrawn") == 2
    assert metric(spc, "registry", "spc_registry_holdings", kind="services", status="suspended") == 1
    for service, event_type in (
        ("audit", "compliance.violation_reported"),
        ("registry", "audit.violation_confirmed"),
        ("funding", "registry.service_suspended"),
    ):
        assert metric(spc, service, f"spc_{service}_event_delivery_seconds_count", event_type=event_type) >= 1

    finding = spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"][0]
    assert finding["is_violation"] and finding["status"] == "open"
    spc.ok("POST", "audit", f"/findings/{finding['id']}/resolve", "auditor", {"resolution": "fixed"})
    wait_for("reinstatement", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "active")
    wait_for(
        "unfreeze",
        lambda: (
            [t["status"] for t in spc.ok("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"]]
            == ["released", "scheduled", "scheduled"]
        ),
    )
    wait_for(
        "republication",
        lambda: {x["status"] for x in spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"published"},
    )

    tap.collect(wait=1.0)
    assert len(tap.of_type("funding.tranche_released")) == 1
    for event_type in (
        "registry.service_suspended",
        "registry.service_reinstated",
        "funding.funding_frozen",
        "distribution.listing_withdrawn",
        "audit.violation_confirmed",
        "audit.violation_resolved",
    ):
        assert tap.of_type(event_type), f"{event_type} was not published"
    assert wait_for("journal", lambda: spc.ok("GET", "audit", "/journal/verify", "auditor")["ok"])


def test_a_minor_finding_does_not_suspend(spc):
    sid = register_active(spc)
    resp = spc.ok(
        "POST",
        "audit",
        "/findings",
        "auditor",
        {
            "service_id": sid,
            "principle": "transparency",
            "severity": "minor",
            "summary": "Accounts published late",
            "reported_by": "auditor-1",
        },
    )
    assert not resp["is_violation"] and resp["remediation_deadline"]
    assert spc.ok("GET", "registry", f"/services/{sid}")["status"] == "active"


def test_a_counter_opening_in_a_territory_lists_the_active_services_and_closing_withdraws_them(spc, amqp_uri):
    sid = register_active(spc)
    publish_inbound(amqp_uri, envelope("counter.upserted", counter("fs-new")), "counter.upserted")
    wait_for(
        "listing",
        lambda: (
            spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]
            == [{"counter_id": "fs-new", "status": "published"}]
        ),
    )
    publish_inbound(amqp_uri, envelope("counter.closed", {"counter_id": "fs-new"}), "counter.closed")
    wait_for(
        "withdrawal",
        lambda: (
            spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]
            == [{"counter_id": "fs-new", "status": "withdrawn"}]
        ),
    )


def test_a_duplicate_event_is_applied_once(spc, amqp_uri):
    sid = register_active(spc)
    msg = envelope(
        "compliance.violation_reported",
        {
            "service_id": sid,
            "principle": "equality",
            "severity": "critical",
            "summary": "Refused a family",
            "reported_by": "defenseur-des-droits",
        },
    )
    for _ in range(3):
        publish_inbound(amqp_uri, msg, "compliance.violation_reported", message_id=msg["event_id"])
    wait_for("suspension", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
    # proof that the two copies were taken and recognised, not merely not yet delivered
    wait_for(
        "audit ignores the two copies",
        lambda: metric(spc, "audit", "spc_audit_duplicates_ignored_total", event_type="compliance.violation_reported") == 2,
    )
    findings = spc.ok("GET", "audit", f"/services/{sid}/findings")
    assert len(findings["findings"]) == 1 and findings["open_violations"] == 1
    assert metric(spc, "audit", "spc_audit_events_consumed_total", event_type="compliance.violation_reported") == 1


def test_invalid_inbound_messages_are_dead_lettered_with_a_reason_and_the_consumer_goes_on(spc, amqp_uri):
    sid = register_active(spc)
    bad = [
        (b"{not json", "compliance.violation_reported", "invalid_json"),
        (
            json.dumps(envelope("compliance.violation_reported", {"service_id": sid})).encode(),
            "compliance.violation_reported",
            "schema_error:payload.",
        ),
        (
            json.dumps(
                envelope(
                    "compliance.violation_reported",
                    {"service_id": "nope", "principle": "equality", "severity": "major", "summary": "x", "reported_by": "y"},
                )
            ).encode(),
            "compliance.violation_reported",
            "unknown_service",
        ),
        (
            json.dumps(envelope("compliance.violation_reported", {}, version=9)).encode(),
            "compliance.violation_reported",
            "unsupported_version",
        ),
        (json.dumps(envelope("weather.changed", {})).encode(), "weather.changed", "unknown_event_type"),
        (b"{" + b" " * 70_000 + b"}", "compliance.violation_reported", "too_large"),
    ]
    for body, key, _ in bad:
        publish_inbound(amqp_uri, body, key)
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=20, expect=len(bad))
    reasons = sorted(props.headers["x-spc-rejection"] for props, _ in dead)
    for _, _, expected in bad:
        assert any(r.startswith(expected) for r in reasons), (expected, reasons)
    publish_inbound(
        amqp_uri,
        envelope(
            "compliance.violation_reported",
            {"service_id": sid, "principle": "equality", "severity": "major", "summary": "still consuming", "reported_by": "y"},
        ),
        "compliance.violation_reported",
    )
    wait_for("suspension", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")


def test_a_bad_message_in_a_batched_lane_is_dead_lettered_and_the_rest_are_applied(spc, amqp_uri):
    """The reports lane takes its messages in batches, parsed where they arrive (take_inline): a
    bad one among them is dead-lettered with its reason, the good ones around it are stored."""
    sid = register_active(spc)

    def report(i):
        return envelope("usager.report_submitted", {"service_id": sid, "category": "other", "text": f"report {i}"})

    bodies = [
        json.dumps(report(0)).encode(),
        b"{not json",
        json.dumps(report(1)).encode(),
        json.dumps(envelope("usager.report_submitted", {"service_id": sid})).encode(),
        json.dumps(report(2)).encode(),
    ]
    for body in bodies:
        publish_inbound(amqp_uri, body, "usager.report_submitted")
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=20, expect=2)
    reasons = sorted(props.headers["x-spc-rejection"].split(":")[0] for props, _ in dead)
    assert reasons == ["invalid_json", "schema_error"]
    wait_for(
        "the three good reports stored",
        lambda: (
            sorted(r["text"] for r in spc.ok("GET", "audit", f"/reports?service_id={sid}", "auditor")["items"])
            == ["report 0", "report 1", "report 2"]
        ),
    )
