"""GET /standings on every service: each one's view of every service's standing, paginated."""

from tests.support import PACT, wait_for


def test_every_service_reports_its_view_of_the_standings_page_by_page(spc):
    ids = sorted(spc.ok("POST", "registry", "/services", "registrar", dict(PACT, name=f"Crèche {i}"))["id"] for i in range(3))
    for sid in ids:
        spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    for name in ("registry", "funding", "distribution"):
        wait_for(
            f"{name} sees three active services",
            lambda n=name: (
                [(i["service_id"], i["status"], i["version"]) for i in spc.ok("GET", n, "/standings")["items"]]
                == [(sid, "active", 2) for sid in ids]
            ),
        )
    wait_for("audit knows them", lambda: [i["service_id"] for i in spc.ok("GET", "audit", "/standings")["items"]] == ids)
    page = spc.ok("GET", "funding", "/standings?limit=2")
    assert [i["service_id"] for i in page["items"]] == ids[:2] and page["next"] == ids[1]
    rest = spc.ok("GET", "funding", f"/standings?limit=2&after={page['next']}")
    assert [i["service_id"] for i in rest["items"]] == ids[2:] and rest["next"] is None
    assert spc.call("GET", "funding", "/standings", role=None).status_code == 401
    bad = spc.call("GET", "registry", "/standings?limit=0")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
