"""Steps of the SPC story the fault tests reuse."""

import uuid

from tests.support import PACT, envelope, publish_inbound, wait_for  # noqa: F401 (PACT re-exported)


def counters(amqp_uri, specs=(("fs-a", "35", "35238"), ("fs-b", "35", "35047"))):
    sent = []
    for cid, dep, com in specs:
        event = envelope(
            "counter.upserted", {"counter_id": cid, "name": cid, "commune_insee": com, "department": dep, "address": ""}
        )
        publish_inbound(amqp_uri, event, "counter.upserted", message_id=event["event_id"])
        sent.append((event["event_id"], "counter.upserted"))
    return sent


def active_service(api, name=None, territories=None):
    sid = api.ok(
        "POST",
        "registry",
        "/services",
        "registrar",
        dict(PACT, name=name or f"Crèche {uuid.uuid4().hex[:12]}", territories=territories or PACT["territories"]),
    )["id"]
    api.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    return sid


def funded(api, sid, tranches=3, amount=10_000, wait=True):
    """A programme and a grant of `tranches` to `sid`: the tranches' ids. With wait=False the grant
    is asked at once, and a service funding does not see active is refused (409, Api.ok raises)."""
    prog = api.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 10_000_000})
    if wait:
        wait_for(
            "funding to see the service active",
            lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active",
        )
    grant = api.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": prog["id"],
            "service_id": sid,
            "tranches": [{"amount_cents": amount, "due_date": "2026-01-01", "milestone": f"m{i}"} for i in range(tranches)],
        },
    )
    return [t["id"] for t in grant["tranches"]]


def listed_and_funded(api, amqp_uri):
    """Counters, an active service funded in three tranches and listed: (inbound events, id)."""
    inbound = counters(amqp_uri)
    sid = active_service(api)
    funded(api, sid)
    wait_for("listings", lambda: listing_statuses(api, sid) == {"published"})
    return inbound, sid


def violation(amqp_uri, sid, severity="major"):
    event = envelope(
        "compliance.violation_reported",
        {
            "service_id": sid,
            "principle": "no_ad_monetisation",
            "severity": severity,
            "summary": "Ads sold on the parents' portal",
            "reported_by": "vox-usagers",
        },
        producer="vox-usagers",
    )
    publish_inbound(amqp_uri, event, "compliance.violation_reported", message_id=event["event_id"])
    return event["event_id"], "compliance.violation_reported"


def tranche_statuses(api, sid):
    return [t["status"] for g in api.ok("GET", "funding", f"/services/{sid}/funding")["grants"] for t in g["tranches"]]


def listing_statuses(api, sid):
    return {x["status"] for x in api.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]}


def wait_suspended_everywhere(api, sid, released=0, timeout=60):
    wait_for("registry: suspended", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended", timeout)
    wait_for("funding: frozen", lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["frozen"], timeout)
    wait_for("distribution: withdrawn", lambda: listing_statuses(api, sid) == {"withdrawn"}, timeout)
    statuses = tranche_statuses(api, sid)
    assert statuses.count("released") == released and set(statuses) <= {"released", "frozen"}, statuses


def wait_active_everywhere(api, sid, timeout=60):
    wait_for("registry: active", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "active", timeout)
    wait_for("funding: active", lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active", timeout)
    wait_for("distribution: published", lambda: listing_statuses(api, sid) == {"published"}, timeout)


def wire_ids(tap):
    return [e["event_id"] for e in tap.drain()]
