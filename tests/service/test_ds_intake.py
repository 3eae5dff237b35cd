"""Applications from Démarches Simplifiées (issue 20), end to end: the registry polls DS's GraphQL
API as the tests run it (tests/ds_server.py) and takes DS's webhook; each dossier becomes a
registration, its acceptance an approval by the DS instructor, its refusal or deletion a closed
submission; a dossier on a new revision of the form is read by that revision's mapping, one on
a revision not mapped is parked; a malformed dossier is parked naming its champ, then applied
once fixed; with the write-back on, the applicant reads a suspension and a reinstatement on the
dossier; a webhook
and a poll of the same change give one effect; a 429 is waited out and nothing is lost."""

import requests

from tests.ds_dossiers import EXAMPLE, champs_of
from tests.ds_server import DsServer
from tests.pacts import full_pact
from tests.support import EventTap, envelope, publish_inbound, wait_for

SECRET = "s3cr3t-" + "x" * 32
SIREN_CHAMP, NAME_CHAMP, NEW_NAME_CHAMP = "Q2hhbXAtMTAz", "Q2hhbXAtMTAx", "Q2hhbXAtMjAx"
REVISION_2 = "UHJvY2VkdXJlUmV2aXNpb24tMg=="
INSTRUCTEUR = "SW5zdHJ1Y3RldXItNDI="


def test_dossiers_from_demarches_simplifiees_become_registrations_and_decisions(cluster_factory, amqp_uri, tmp_path):
    ds = DsServer(demarche=4242)
    mappings = tmp_path / "ds"
    mappings.mkdir()
    # the form's second revision moved the name to a new champ: the same file maps both
    example = EXAMPLE.read_text(encoding="utf-8")
    second = (
        example[example.index('[revisions."') :]
        .replace("UHJvY2VkdXJlUmV2aXNpb24tMQ==", REVISION_2)
        .replace(f'name = "{NAME_CHAMP}"', f'name = "{NEW_NAME_CHAMP}"')
    )
    (mappings / "4242.toml").write_text(example + "\n" + second, encoding="utf-8")
    tap = EventTap(amqp_uri, keys=("registry.#",))
    try:
        _, spc = cluster_factory(
            ["registry"],
            SPC_DS_TOKEN=ds.token,
            SPC_DS_URL=ds.url,
            SPC_DS_MAPPINGS=str(mappings),
            SPC_DS_WEBHOOK_SECRET=SECRET,
            SPC_DS_POLL_SECONDS="1",
            SPC_DS_WRITE_BACK="true",
            SPC_DS_INSTRUCTEUR_ID=INSTRUCTEUR,
        )
        base = f"http://127.0.0.1:{spc.ports['registry']}"
        bodies = {n: full_pact(name=f"Crèche {n}") for n in ("A", "B", "C", "D")}
        numbers = {n: ds.submit(champs_of(b)) for n, b in bodies.items() if n != "C"}
        numbers["C"] = ds.submit(dict(champs_of(bodies["C"]), **{SIREN_CHAMP: ("siren", "123456789")}))
        bodies["E"] = full_pact(name="Crèche E")
        renamed = {NEW_NAME_CHAMP if k == NAME_CHAMP else k: v for k, v in champs_of(bodies["E"]).items()}
        numbers["E"] = ds.submit(renamed, revision=REVISION_2)
        numbers["F"] = ds.submit(champs_of(full_pact(name="Crèche F")), revision="UmV2aXNpb24tOTk=")

        def service(name):
            items = spc.ok("GET", "registry", "/services?limit=100", "viewer")["items"]
            return next((s for s in items if s["name"] == f"Crèche {name}"), None)

        wait_for("the dossiers registered", lambda: all(service(n) for n in "ABDE"), timeout=30)
        assert all(service(n)["status"] == "submitted" for n in "ABDE") and service("C") is None
        parked, unknown = spc.ok("GET", "registry", "/ds/dossiers", "registrar")["items"]
        assert parked["number"] == numbers["C"] and parked["problem"].startswith(f"champ {SIREN_CHAMP} (siren)")
        assert unknown["number"] == numbers["F"] and "no mapping for revision UmV2aXNpb24tOTk=" in unknown["problem"]

        # accepted in DS, no webhook (lost): polling applies it, attributed to the instructor
        ds.change(numbers["A"], state="en_instruction")
        ds.change(numbers["A"], state="accepte", instructeur="marie@ille-et-vilaine.gouv.fr")
        wait_for("A approved", lambda: service("A")["status"] == "active", timeout=30)

        # refused in DS and poked by its webhook: applied at once; the poll after it changes nothing
        ds.change(numbers["B"], state="refuse", motivation="hors du champ de la démarche")
        url = f"{base}/ds/webhook/{SECRET}"
        poke = requests.post(
            url,
            data={"procedure_id": 4242, "dossier_id": numbers["B"], "state": "refuse", "updated_at": "2027-03-01T10:00:00+01:00"},
            timeout=30,
        )
        assert poke.status_code == 202 and poke.json() == {"number": numbers["B"], "outcome": "applied"}
        assert service("B")["status"] == "revoked" and "hors du champ" in service("B")["status_reason"]
        assert requests.post(f"{base}/ds/webhook/{'y' * 40}", data={"dossier_id": 1}, timeout=30).status_code == 404

        # DS over its limits for a while: waited out, then the fix of C and D's deletion are read
        ds.mode = "limited"
        ds.change(numbers["C"], **{SIREN_CHAMP: bodies["C"]["siren"]})
        ds.delete(numbers["D"])
        wait_for("a 429", lambda: ds.refused >= 1, timeout=10)
        ds.mode = "ok"
        wait_for("C registered", lambda: service("C") is not None, timeout=30)
        wait_for("D withdrawn", lambda: service("D")["status"] == "revoked", timeout=30)
        assert [d["number"] for d in spc.ok("GET", "registry", "/ds/dossiers", "registrar")["items"]] == [numbers["F"]]

        # the write-back: A's applicant reads its suspension, then its reinstatement, once each
        a = service("A")["id"]
        for kind, version, open_violations in (("confirmed", 1, 1), ("resolved", 2, 0)):
            publish_inbound(
                amqp_uri,
                envelope(
                    f"audit.violation_{kind}",
                    {
                        "finding_id": "f-1",
                        "service_id": a,
                        "open_violations": open_violations,
                        "audit_version": version,
                        "principle": "neutrality",
                    },
                    producer="audit",
                ),
                f"audit.violation_{kind}",
                exchange="spc.events",
            )
            wait_for(f"the message after {kind}", lambda n=version: len(ds.messages) == n, timeout=30)
        assert [(n, who) for n, who, _ in ds.messages] == [(numbers["A"], INSTRUCTEUR)] * 2
        assert "est suspendu" in ds.messages[0][2] and "est rétabli" in ds.messages[1][2]

        events = tap.drain(quiet=1.5)
        approved = [e for e in events if e["event_type"] == "registry.service_approved"]
        assert [(e["payload"]["service_id"], e.get("actor")) for e in approved] == [
            (service("A")["id"], "ds/marie@ille-et-vilaine.gouv.fr")
        ]
        revoked = [e["payload"]["service_id"] for e in events if e["event_type"] == "registry.service_revoked"]
        assert sorted(revoked) == sorted([service("B")["id"], service("D")["id"]])  # once each
    finally:
        ds.close()
