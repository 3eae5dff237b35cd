"""The registry's store on SQLite and PostgreSQL: the pact migration keeps existing services, and
the list filters and pages in SQL (100,000 services: the page loads only its rows)."""

import json
import os

import pytest
from sqlalchemy import event, text

from spc.runtime.fleet import spec
from spc.services.registry import handlers
from spc.services.registry.domain import commands
from spc.services.registry.domain.model import CitizenService
from spc.services.registry.domain.pact import Pact
from spc.services.registry.repository import tags_of
from spc.shared.sql.migrations import upgrade
from spc.shared.sql.persistence import make_engine
from tests.pacts import full_pact


def test_the_pact_migration_keeps_every_existing_service_as_a_contract_v1_pact(db_url):
    engine = make_engine(db_url)
    migrations = spec("registry").migrations
    upgrade(engine, "registry", migrations, "0002_registry")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO services (id, name, legal_form, siren, rna, mission, contact_email, domains, commitments, "
                "departments, communes, status, status_reason, version, audit_version, open_violations, registered_by) "
                "VALUES ('s-old', 'Crèche Les Lutins', 'association', NULL, 'W353012345', 'crèche', 'a@b.fr', :d, :c, "
                ":dep, :com, 'suspended', 'violation f', 3, 2, 1, 'registrar/old')"
            ),
            {
                "d": json.dumps(["early_childhood"]),
                "c": json.dumps(["continuity", "equality"]),
                "dep": json.dumps(["35"]),
                "com": json.dumps(["56260"]),
            },
        )
    upgrade(engine, "registry", migrations)
    database = spec("registry").open(db_url)
    try:
        service = handlers.get_service(database.uow(), "s-old")
        assert service["status"] == "suspended" and service["version"] == 3 and service["pact_version"] == 1
        assert service["territories"] == {"departments": ["35"], "communes": ["56260"], "regions": [], "national": False}
        assert service["commitments"] == ["continuity", "equality"] and "governance" in service["pact_missing"]
        pact = handlers.get_pact(database.uow(), "s-old")
        assert pact["recorded_by"] == "migration/0003" and pact["pact"]["mission"] == "crèche"
        found = handlers.list_services(database.uow(), department="56")
        assert [s["id"] for s in found["items"]] == ["s-old"]
    finally:
        database.close()
        engine.dispose()


@pytest.fixture
def registry_db(db_url):
    database = spec("registry").open(db_url)
    yield database
    database.close()


def test_registering_twice_under_one_siren_and_name_answers_the_first_id(registry_db):
    body = full_pact(siren="110044013", rna=None, legal_form="public_body")
    first = handlers.register_service(registry_db.uow(), commands.RegisterService(Pact.from_dict(body), "r/x"))
    with pytest.raises(Exception) as err:
        handlers.register_service(registry_db.uow(), commands.RegisterService(Pact.from_dict(body), "r/x"))
    assert err.value.code == "already_registered" and err.value.details["service_id"] == first["id"]


def test_the_list_filters_and_pages_in_sql_over_100000_services(registry_db):
    """100,000 services inserted in bulk; each filtered page loads `limit` services, not them all."""
    n = int(os.environ.get("SPC_LIST_SERVICES", 100_000))

    def small(territories):  # a contract-v1 pact: the documents are not what this test is about
        return Pact.from_dict(
            {
                "name": "S",
                "legal_form": "association",
                "rna": "W353012345",
                "mission": "m",
                "contact_email": "a@b.fr",
                "territories": territories,
            }
        )

    pacts = {"35": small({"departments": ["35"]}), "rennes": small({"communes": ["35238"]}), "2A": small({"departments": ["2A"]})}
    # made by the database itself (a recursive count): one in ten covers 35 whole, one in ten
    # Rennes, the rest Corse-du-Sud; two in three are active
    kind = "CASE WHEN i % 10 = 0 THEN '{k0}' WHEN i % 10 = 9 THEN '{k9}' ELSE '{k}' END"
    name = "'Service ' || CAST(1000000 + i AS VARCHAR(10))"
    document = kind.format(
        k0=json.dumps(pacts["35"].to_dict()), k9=json.dumps(pacts["rennes"].to_dict()), k=json.dumps(pacts["2A"].to_dict())
    )
    sequence = f"WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {n - 1}) "
    json_cast = "CAST({} AS JSON)" if registry_db.engine.dialect.name == "postgresql" else "{}"
    with registry_db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO services (id, name, name_key, legal_form, pact_document, pact_version, principles, status, "
                "version, audit_version, open_violations, registered_by) "
                + sequence
                + f"SELECT 's' || CAST(1000000 + i AS VARCHAR(10)), {name}, lower({name}), 'association', "
                f"{json_cast.format(document)}, 1, 255, CASE WHEN i % 3 = 0 THEN 'submitted' ELSE 'active' END, "
                "1, 0, 0, 'bench' FROM seq"
            )
        )
        for label, pact in (("0", pacts["35"]), ("9", pacts["rennes"]), ("other", pacts["2A"])):
            which = "i % 10 NOT IN (0, 9)" if label == "other" else f"i % 10 = {label}"
            for tag_kind, code in tags_of(pact):
                conn.execute(
                    text(
                        "INSERT INTO service_tags (service_id, kind, code) "
                        + sequence
                        + f"SELECT 's' || CAST(1000000 + i AS VARCHAR(10)), '{tag_kind}', '{code}' "
                        f"FROM seq WHERE {which}"
                    )
                )  # (no parameters: pg8000 reads % as one)
    kinds = ["35", "2A", "2A", "2A", "2A", "2A", "2A", "2A", "2A", "rennes"]
    loaded = []

    def on_load(target, context):
        loaded.append(target.id)

    event.listen(CitizenService, "load", on_load)
    try:
        page = handlers.list_services(registry_db.uow(), department="35", status="active", limit=20, offset=40)
        assert page["total"] == sum(1 for i in range(n) if kinds[i % 10] in ("35", "rennes") and i % 3)
        assert len(page["items"]) == 20 and len(loaded) == 20
        names = [s["name"] for s in page["items"]]
        assert names == sorted(names)
        loaded.clear()
        page = handlers.list_services(registry_db.uow(), commune="35047", limit=50)  # Bain-de-Bretagne: the 35-wide ones
        assert page["total"] == n // 10 and len(loaded) == 50
        loaded.clear()
        page = handlers.list_services(registry_db.uow(), commune="35238", principle="governance", limit=10)
        assert page["total"] == 2 * n // 10 and len(loaded) == 10
    finally:
        event.remove(CitizenService, "load", on_load)
