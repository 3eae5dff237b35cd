"""Identity checks at registration (issue 20), end to end: the registry service asks API
Recherche d'entreprises as the tests run it (spc/standins/registries.py) over HTTP, keeps and
shows the outcome, publishes it on spc.events, refuses to approve a mismatch without a reason,
and, the API down at registration, accepts the service `unverified` and settles it later."""

from tests.pacts import full_pact
from spc.standins.registries import RegistriesServer, unit
from tests.support import EventTap, metric, wait_for


def test_the_registry_checks_a_declared_identity_and_settles_it_once_the_api_is_back(cluster_factory, amqp_uri):
    good, closed, later = (full_pact() for _ in range(3))
    api = RegistriesServer(
        [
            unit(good["siren"], rna=good["rna"]),
            unit(closed["siren"], state="C", rna=closed["rna"]),
            unit(later["siren"], rna=later["rna"]),
        ]
    )
    tap = EventTap(amqp_uri, keys=("registry.identity_verified", "registry.identity_mismatch"))
    try:
        _, spc = cluster_factory(["registry"], SPC_IDENTITY_REGISTRY=api.url, SPC_IDENTITY_RECHECK_SECONDS="1")
        verified = spc.ok("POST", "registry", "/services", "registrar", good)
        assert verified["identity"]["outcome"] == "verified" and verified["identity"]["source"] == "recherche-entreprises"

        doubted = spc.ok("POST", "registry", "/services", "registrar", dict(closed, name="Fermée"))
        assert doubted["identity"]["fields"] == {"etat_administratif": "ceased (C): the unit is closed"}
        refused = spc.call("POST", "registry", f"/services/{doubted['id']}/approve", "registrar")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "identity_mismatch"
        approved = spc.ok(
            "POST",
            "registry",
            f"/services/{doubted['id']}/approve",
            "registrar",
            {"reason": "the association reopened; Sirene not updated yet"},
        )
        assert approved["status"] == "active" and approved["status_reason"].startswith("the association reopened")
        assert spc.ok("POST", "registry", f"/services/{verified['id']}/approve", "registrar")["status"] == "active"

        api.mode = "limited"
        pending = spc.ok("POST", "registry", "/services", "registrar", dict(later, name="Plus tard"))
        assert pending["identity"]["outcome"] == "unverified" and "429" in pending["identity"]["source"]
        api.mode, api.retry_after = "ok", "1"
        wait_for(
            "the re-check",
            lambda: spc.ok("GET", "registry", f"/services/{pending['id']}")["identity"]["outcome"] == "verified",
            timeout=30,
        )
        assert metric(spc, "registry", "spc_registry_identity_lookups_total", result="limited") == 1

        events = {(e["event_type"], e["payload"]["service_id"]) for e in tap.drain()}
        assert events == {
            ("registry.identity_verified", verified["id"]),
            ("registry.identity_mismatch", doubted["id"]),
            ("registry.identity_verified", pending["id"]),
        }
    finally:
        api.close()
