"""Every state-changing staff action is attributed: who (the token's role/label), when and the
request's correlation id are in the events it causes (so in the audit journal) and in the
`history` of the resources the answers show; a POST retried with the same Idempotency-Key is
answered as the first time and changes nothing more, across a restart of the service too.
PostgreSQL and the real broker."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from spc.shared.sql.persistence import make_engine
from tests.support import PACT, EventTap, envelope, publish_inbound, wait_for


def _journal(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [json.loads(b) for (b,) in conn.execute(text("SELECT body FROM journal ORDER BY seq"))]
    finally:
        engine.dispose()


def test_each_staff_action_is_attributed_in_its_events_the_journal_and_the_resource(spc_pg, amqp_uri):
    api, db_urls = spc_pg
    tap = EventTap(amqp_uri)

    def act(method, service, path, role, body=None):
        cid = f"req-{uuid.uuid4().hex[:12]}"
        resp = api.call(method, service, path, role, body, headers={"X-Correlation-Id": cid})
        assert resp.status_code in (200, 201), resp.text
        assert resp.headers["X-Correlation-Id"] == cid
        return resp.json(), cid

    counter = {
        "counter_id": "FS-35-0042",
        "name": "France services Rennes Maurepas",
        "commune_insee": "35238",
        "department": "35",
        "address": "32 rue de la Marbaudais 35700 Rennes",
    }
    publish_inbound(amqp_uri, envelope("counter.upserted", counter), "counter.upserted")
    wait_for("the counter", lambda: api.call("GET", "distribution", "/counters/FS-35-0042/catalogue").status_code == 200)
    service, c_register = act("POST", "registry", "/services", "registrar", PACT)
    sid = service["id"]
    approved, c_approve = act("POST", "registry", f"/services/{sid}/approve", "registrar")
    programme, c_programme = act(
        "POST", "funding", "/programmes", "funding_officer", {"name": "Petite enfance", "budget_cents": 1_000_000}
    )
    grant, c_grant = act(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {"programme_id": programme["id"], "service_id": sid, "tranches": [{"amount_cents": 1000, "due_date": "2026-01-15"}]},
    )  # due: released without a reason
    tranche, c_release = act("POST", "funding", f"/tranches/{grant['tranches'][0]['id']}/release", "funding_officer")
    finding, c_finding = act(
        "POST",
        "audit",
        "/findings",
        "auditor",
        {
            "service_id": sid,
            "principle": "transparency",
            "severity": "minor",
            "summary": "Accounts not published",
            "reported_by": "inspection-35",
        },
    )
    resolved, c_resolve = act(
        "POST", "audit", f"/findings/{finding['id']}/resolve", "auditor", {"resolution": "Published on 2026-12-01"}
    )
    revoked, c_revoke = act("POST", "registry", f"/services/{sid}/revoke", "registrar", {"reason": "dissolved"})

    # the resources say who did what, with the correlation ids
    assert [(h["action"], h["by"], h["correlation_id"]) for h in revoked["history"]] == [
        ("registry.service_submitted", "registrar/tests", c_register),
        ("registry.service_approved", "registrar/tests", c_approve),
        ("registry.service_revoked", "registrar/tests", c_revoke),
    ]
    assert [(h["action"], h["by"], h["correlation_id"]) for h in programme["history"]] == [
        ("funding.programme_opened", "funding_officer/tests", c_programme)
    ]
    assert [(h["action"], h["correlation_id"]) for h in tranche["history"]] == [("funding.tranche_released", c_release)]
    assert [h["action"] for h in resolved["history"]] == ["audit.finding_recorded", "audit.finding_resolved"]
    assert resolved["history"][1]["by"] == "auditor/tests" and resolved["history"][1]["correlation_id"] == c_resolve
    funding = api.ok("GET", "funding", f"/services/{sid}/funding")
    assert [h["correlation_id"] for h in funding["grants"][0]["history"]] == [c_grant, c_release]
    assert api.ok("GET", "registry", f"/services/{sid}")["history"] == revoked["history"]

    # the events carry them, as outsiders on spc.events see them, and the audit journal keeps them
    caused = {
        c_register: "registry.service_submitted",
        c_approve: "registry.service_approved",
        c_programme: "funding.programme_opened",
        c_grant: "funding.grant_awarded",
        c_release: "funding.tranche_released",
        c_finding: "audit.finding_recorded",
        c_resolve: "audit.finding_resolved",
        c_revoke: "registry.service_revoked",
    }

    def attributed(events):
        return {(e["correlation_id"], e["event_type"]): e["actor"] for e in events}

    events = wait_for(
        "every action's event",
        lambda: (
            lambda got: (
                got if all((c, t) in got for c, t in [*caused.items(), (c_approve, "distribution.listing_published")]) else None
            )
        )(attributed(tap.collect())),
    )
    assert {events[(c, t)].split("/")[0] for c, t in caused.items()} == {"registrar", "funding_officer", "auditor"}
    assert all(events[(c, t)].endswith("/tests") for c, t in caused.items())
    # down the chain: approving made distribution list the service, on the registrar's request
    assert events[(c_approve, "distribution.listing_published")] == "registrar/tests"
    journal = wait_for(
        "the journal",
        lambda: (lambda got: got if all((c, t) in got for c, t in caused.items()) else None)(
            attributed(_journal(db_urls["audit"]))
        ),
    )
    assert all(journal[(c, t)] == events[(c, t)] for c, t in caused.items())


def test_a_retried_post_with_the_same_idempotency_key_is_answered_once_even_after_a_restart(cluster_factory, pg_urls, amqp_uri):
    cluster, api = cluster_factory(db_urls=pg_urls)
    tap = EventTap(amqp_uri, keys=("funding.programme_opened",))
    body = {"name": "Petite enfance", "budget_cents": 1_000_000}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    again = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers

    pact_key = {"Idempotency-Key": str(uuid.uuid4())}
    registered = [api.call("POST", "registry", "/services", "registrar", PACT, headers=pact_key) for _ in range(2)]
    assert registered[0].json() == registered[1].json()
    assert registered[0].headers["Location"] == registered[1].headers["Location"]  # the replay says it too
    assert api.ok("GET", "registry", "/services")["total"] == 1

    other = api.call("POST", "funding", "/programmes", "funding_officer", dict(body, budget_cents=5), headers=key)
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    bad = api.call("POST", "funding", "/programmes", "funding_officer", body, headers={"Idempotency-Key": "short"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_idempotency_key"

    cluster.stop()
    _, api = cluster_factory(db_urls=pg_urls, ports=api.ports)
    after = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    assert after.status_code == 201 and after.json() == first.json()

    # copies sent at the same moment: one programme, every answer the first one (the change, its
    # key and its answer commit together, so no copy ever finds the key without its answer)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(
                lambda _: api.call(
                    "POST", "funding", "/programmes", "funding_officer", dict(body, name="Concurrent"), headers=key
                ),
                range(6),
            )
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    names = [p["name"] for p in api.ok("GET", "funding", "/programmes")["items"]]
    assert sorted(names) == ["Concurrent", "Petite enfance"]
    assert len(tap.drain(quiet=1.0)) == 2  # one funding.programme_opened per programme, ever
