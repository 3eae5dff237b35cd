"""e2e: the four services as separate `spc run` processes against the real RabbitMQ and
PostgreSQL, driven over HTTP, with the violation published by pika as an external system would."""

import os
import subprocess
import sys

import pytest

from spc.runtime.config import SERVICE_NAMES
from tests.pacts import TEXTS, full_pact
from tests.support import TOKENS_ENV, Api, envelope, publish_inbound, reserve_ports, stop_processes, wait_for


@pytest.fixture
def processes(amqp_uri, pg_url_factory, tmp_path):
    ports = reserve_ports(list(SERVICE_NAMES))
    env = dict(os.environ, AMQP_URI=amqp_uri, SPC_ADMIN_TOKENS=TOKENS_ENV, SPC_BIND="127.0.0.1", SPC_DATA_DIR=str(tmp_path))
    for name in SERVICE_NAMES:
        env[f"{name.upper()}_PORT"] = str(ports[name])
        env[f"{name.upper()}_DATABASE_URL"] = pg_url_factory(f"spc_e2e_{name}")
    procs = {}
    for name in SERVICE_NAMES:
        log = open(tmp_path / f"{name}.log", "w")
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "spc.cli", "run", name], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    api = Api(ports)
    try:
        for name in SERVICE_NAMES:
            wait_for(f"{name} ready", lambda n=name: api.call("GET", n, "/health/ready", None).status_code == 200, timeout=60)
        yield api
    finally:
        stop_processes(procs, tmp_path)


def test_the_whole_story_across_four_processes(processes, amqp_uri):
    api = processes
    for cid, dep, com in (("fs-a", "35", "35238"), ("fs-b", "35", "35047"), ("fs-c", "29", "29019")):
        publish_inbound(
            amqp_uri,
            envelope(
                "counter.upserted", {"counter_id": cid, "name": cid, "commune_insee": com, "department": dep, "address": ""}
            ),
            "counter.upserted",
        )
    sid = api.ok("POST", "registry", "/services", "registrar", full_pact())["id"]
    assert api.ok("POST", "registry", f"/services/{sid}/approve", "registrar")["status"] == "active"
    prog = api.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 1_000_000})
    wait_for("funding to see the approval", lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    grant = api.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": prog["id"],
            "service_id": sid,
            "tranches": [
                {"amount_cents": 100_000, "due_date": "2026-01-01", "milestone": "start"},
                {"amount_cents": 100_000, "due_date": "2026-06-01", "milestone": "middle"},
                {"amount_cents": 50_000, "due_date": "2026-12-01", "milestone": "end"},
            ],
        },
    )
    api.ok("POST", "funding", f"/tranches/{grant['tranches'][0]['id']}/release", "funding_officer")
    wait_for(
        "listings",
        lambda: (
            {(x["counter_id"], x["status"]) for x in api.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]}
            == {("fs-a", "published"), ("fs-b", "published")}
        ),
    )
    wait_for("audit to know the service", lambda: api.call("GET", "audit", f"/services/{sid}/findings").status_code == 200)

    publish_inbound(
        amqp_uri,
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "no_ad_monetisation",
                "severity": "major",
                "summary": "Ads sold on the parents' portal",
                "reported_by": "vox-usagers",
            },
            producer="vox-usagers",
        ),
        "compliance.violation_reported",
    )

    wait_for("suspended", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
    wait_for(
        "frozen",
        lambda: (
            [t["status"] for t in api.ok("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"]]
            == ["released", "frozen", "frozen"]
        ),
    )
    assert api.ok("GET", "funding", f"/services/{sid}/funding")["frozen"] is True
    wait_for(
        "withdrawn",
        lambda: {x["status"] for x in api.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"withdrawn"},
    )

    finding = api.ok("GET", "audit", f"/services/{sid}/findings")["findings"][0]
    assert finding["commitment"]["text"] == TEXTS["no_ad_monetisation"]  # what the service committed to
    api.ok("POST", "audit", f"/findings/{finding['id']}/resolve", "auditor", {"resolution": "ads removed"})
    wait_for("reinstated", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "active")
    wait_for(
        "unfrozen",
        lambda: (
            [t["status"] for t in api.ok("GET", "funding", f"/services/{sid}/funding")["grants"][0]["tranches"]]
            == ["released", "scheduled", "scheduled"]
        ),
    )
    wait_for(
        "republished",
        lambda: {x["status"] for x in api.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"published"},
    )

    # an amendment extends the pact to the Finistère (29): approved, the listings follow by themselves
    amendment = api.ok(
        "POST",
        "registry",
        f"/services/{sid}/amendments",
        "registrar",
        {"territories": {"departments": ["35", "29"]}, "reason": "Le Finistère rejoint le pacte"},
    )
    assert amendment["status"] == "proposed" and amendment["base_version"] == 1
    approved = api.ok("POST", "registry", f"/services/{sid}/amendments/{amendment['id']}/approve", "registrar")
    assert approved["status"] == "approved" and approved["pact_version"] == 2
    wait_for(
        "listed in the Finistère too",
        lambda: (
            {(x["counter_id"], x["status"]) for x in api.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]}
            == {("fs-a", "published"), ("fs-b", "published"), ("fs-c", "published")}
        ),
    )
    assert api.ok("GET", "registry", f"/services/{sid}")["status"] == "active"
    first = api.ok("GET", "registry", f"/services/{sid}/pact?version=1")
    assert first["pact"]["territories"]["departments"] == ["35"] and [v["version"] for v in first["versions"]] == [1, 2]
    assert wait_for("journal", lambda: api.ok("GET", "audit", "/journal/verify", "auditor")["ok"])
