"""The public read API on the real broker: a newcomer, with no token, learns in one request how
much a service received and that it is suspended; the registry names the principle at stake;
answers are cached (ETag, 304) and bounded (429 past the rate); no e-mail address anywhere."""

import re
from datetime import datetime, timedelta, timezone

from tests.pacts import full_pact
from tests.support import envelope, publish_inbound, wait_for

EMAIL = re.compile(r"[^\s\"@]+@[^\s\"@]+\.[a-z]+")


def test_one_unauthenticated_request_says_how_much_a_suspended_service_received(cluster_factory, amqp_uri):
    _, spc = cluster_factory(SPC_PUBLIC_RATE_PER_MINUTE="6")
    publish_inbound(
        amqp_uri,
        envelope(
            "counter.upserted",
            {
                "counter_id": "fs-pub",
                "name": "France services Rennes",
                "commune_insee": "35238",
                "department": "35",
                "address": "1 place de la Mairie",
                "email": "accueil@fs-rennes.example.org",
            },
        ),
        "counter.upserted",
    )
    sid = spc.ok("POST", "registry", "/services", "registrar", full_pact())["id"]
    spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    wait_for("funding to know the service", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    programme = spc.ok("POST", "funding", "/programmes", "funding_officer", {"name": "Petite enfance", "budget_cents": 10_000_00})
    due = (datetime.now(timezone.utc).date() - timedelta(days=2)).isoformat()
    grant = spc.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": programme["id"],
            "service_id": sid,
            "tranches": [{"amount_cents": 1_500_00, "due_date": due}, {"amount_cents": 2_500_00, "due_date": due}],
        },
    )
    spc.ok("POST", "funding", f"/tranches/{grant['tranches'][0]['id']}/release", "funding_officer")
    publish_inbound(
        amqp_uri,
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "neutrality",
                "severity": "major",
                "summary": "Political leaflets at the entrance",
                "reported_by": "inspection-35",
            },
        ),
        "compliance.violation_reported",
    )
    wait_for("the freeze", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["frozen"])
    wait_for("the suspension", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")

    # the one request: no token
    funding = spc.call("GET", "funding", f"/public/services/{sid}/funding", role=None)
    assert funding.status_code == 200, funding.text
    money = funding.json()
    assert (money["released_cents"], money["awarded_cents"], money["frozen_cents"]) == (1_500_00, 4_000_00, 2_500_00)
    assert money["status"] == "suspended" and money["frozen"]
    since = datetime.fromisoformat(money["suspended_since"])
    assert timedelta(0) <= datetime.now(timezone.utc) - since < timedelta(minutes=5)
    assert "neutrality" in money["reason"]
    assert funding.headers["Cache-Control"] == "public, max-age=30" and funding.headers["ETag"]

    again = spc.call(
        "GET", "funding", f"/public/services/{sid}/funding", role=None, headers={"If-None-Match": funding.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == funding.headers["ETag"]

    service = spc.call("GET", "registry", f"/public/services/{sid}", role=None)
    assert service.status_code == 200, service.text
    view = service.json()
    assert view["suspension"]["principle"] == "neutrality"
    assert view["standing"] == f"suspended since {since.date().isoformat()}: a violation of neutrality is open"
    listed = spc.call("GET", "registry", "/public/services?status=suspended&department=35", role=None)
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    wait_for("the counter", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
    counters = spc.call("GET", "distribution", "/public/counters", role=None)
    catalogue = spc.call("GET", "distribution", "/public/counters/fs-pub/catalogue", role=None)
    assert counters.json()["items"][0]["id"] == "fs-pub" and catalogue.status_code == 200
    for answer in (funding, service, listed, counters, catalogue):
        assert not EMAIL.search(answer.text), answer.text

    # bounded: past 6 a minute, this client waits
    statuses = [spc.call("GET", "funding", f"/public/services/{sid}/funding", role=None) for _ in range(6)]
    refused = next(r for r in statuses if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    assert spc.ok("GET", "funding", f"/services/{sid}/funding")["frozen"]  # staff reads are not limited
