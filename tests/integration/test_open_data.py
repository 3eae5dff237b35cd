"""`spc export registry` and `spc export grants` on real SQLite databases filled by the services'
own use cases, validated as a publisher would with frictionless: the registry's Data Package, the
grants against the vendored SCDL "Subventions" schema (docs/open-data.md)."""

import csv
import json
from datetime import date, timedelta

import frictionless
import pytest
from click.testing import CliRunner

from spc.cli.commands import cli
from spc.runtime.fleet import spec
from spc.opendata.grants import SCHEMA_PATH
from spc.services.funding import handlers as funding
from spc.services.funding.domain import commands as funding_commands
from spc.shared.core.identifiers import luhn_valid
from spc.services.registry import handlers as registry
from spc.services.registry.domain import commands as registry_commands
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_once
from tests.pacts import full_pact, pact_of
from tests.unit.fakes import standing, wire

TODAY = date.today()
FUNDER_SIREN = "130025265"  # an État body's SIREN (Luhn-valid)
FUNDER_SIRET = next(FUNDER_SIREN + f"{n:05d}" for n in range(10, 99999) if luhn_valid(FUNDER_SIREN + f"{n:05d}"))
PEOPLE = ("Claire Martin", "Yann Le Goff", "@")  # full_pact's persons and e-mails


@pytest.fixture
def databases(tmp_path):
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("registry", "funding")}
    opened = {name: spec(name).open(url) for name, url in urls.items()}
    yield opened, {f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
    for database in opened.values():
        database.close()


def _service(reg, fund, approve=True, **over):
    sid = registry.register_service(reg.uow(), registry_commands.RegisterService(pact_of(full_pact(**over)), "registrar/x"))["id"]
    if approve:
        registry.approve_service(reg.uow(), registry_commands.ApproveService(sid, "registrar/x"))
        apply_once(fund.uow(), standing(sid, "active", 2), funding.on_service_standing)
    return sid


def _programme(fund, name, funder=None, legal_basis=None):
    return funding.create_programme(fund.uow(), funding_commands.CreateProgramme(name, 10_000_000, "fo/x", funder, legal_basis))[
        "id"
    ]


def _grant(fund, programme_id, sid, *amounts_and_days):
    tranches = [{"amount_cents": a, "due_date": TODAY + timedelta(days=d), "milestone": "step"} for a, d in amounts_and_days]
    return funding.award_grant(fund.uow(), funding_commands.AwardGrant(programme_id, sid, tranches, "fo/x"))["id"]


@pytest.fixture
def filled(databases):
    """Three services holding a pact (an association, a SCIC known by its SIREN only — suspended on
    neutrality —, a pilot) and one still submitted; grants under programmes with a funder's SIRET,
    a funder's SIREN only, and no funder."""
    (dbs, env) = databases
    reg, fund = dbs["registry"], dbs["funding"]
    assoc = _service(reg, fund, name="Crèche parentale Les Petits Pas")
    scic = _service(
        reg,
        fund,
        name="SCIC Mobilités rurales",
        legal_form="scic",
        rna=None,
        domains=["mobilité"],
        territories={"departments": ["22", "29"], "communes": ["35238"], "regions": ["53"]},
    )
    apply_once(
        reg.uow(),
        wire(
            "audit.violation_confirmed",
            {"finding_id": "f-1", "service_id": scic, "open_violations": 1, "audit_version": 1, "principle": "neutrality"},
        ),
        registry.on_audit_decision,
    )
    _service(reg, fund, name="Tiers-lieu numérique", territories={"national": True})
    _service(reg, fund, approve=False, name="Pas encore approuvé")
    funder = {"name": "Agence nationale de la cohésion des territoires", "siret": FUNDER_SIRET}
    sited = _programme(fund, "Petite enfance 2026", funder, "Loi n° 2026-12, art. 4 ; arrêté du 3 mars 2026")
    by_siren = _programme(fund, "Mobilités", {"name": "Région Bretagne", "siren": "233500016"})
    older = _programme(fund, "Programme v1")
    grants = {
        "staggered": _grant(fund, sited, assoc, (1_000_050, 1), (500_000, 400)),
        "single": _grant(fund, sited, scic, (250_000, 0)),
        "by_siren": _grant(fund, by_siren, scic, (100_000, 0)),
        "no_funder": _grant(fund, older, assoc, (100_000, 0)),
    }
    return env, {"assoc": assoc, "scic": scic}, grants


def _export(what, out, env):
    return CliRunner().invoke(cli, ["export", what, "--out", str(out)], env=env, prog_name="spc")


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _scdl_report(path):
    schema = frictionless.Schema.from_descriptor(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return frictionless.validate(frictionless.Resource(path=path.name, basepath=str(path.parent), schema=schema))


def _errors(report):
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_registry_export_is_a_valid_data_package_without_personal_data(filled, tmp_path):
    env, sids, _ = filled
    result = _export("registry", tmp_path / "out", env)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith("3 services written to ")
    report = frictionless.validate(str(tmp_path / "out" / "datapackage.json"))
    assert report.valid, _errors(report)
    rows = {r["id"]: r for r in _rows(tmp_path / "out" / "registry.csv")}
    assert len(rows) == 3 and "Pas encore approuvé" not in {r["name"] for r in rows.values()}
    scic = rows[sids["scic"]]
    assert (scic["status"], scic["suspension_principle"], scic["rna"], scic["departments"], scic["regions"]) == (
        "suspended",
        "neutrality",
        "",
        "22;29",
        "53",
    )
    assert scic["suspended_since"].endswith("Z") and scic["standing"].startswith("suspended since ")
    assert rows[sids["assoc"]]["commitment_neutrality"].startswith("No political or religious message")
    assert rows[sids["assoc"]]["public_counterpart_kind"] == "state"
    text = (tmp_path / "out" / "registry.csv").read_text(encoding="utf-8")
    assert not [p for p in PEOPLE if p in text]
    package = json.loads((tmp_path / "out" / "datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["name"] == "etalab-2.0" and package["created"].startswith(TODAY.isoformat()[:4])
    assert package["resources"][0]["schema"]["primaryKey"] == ["id"]


def test_the_grants_export_is_valid_scdl_and_says_which_grants_it_left_out(filled, databases, tmp_path):
    env, sids, grants = filled
    funding = databases[0]["funding"]
    with funding.engine.begin() as conn:  # the sent events pruned (shared/sql/retention.py): the grants keep their dates
        conn.execute(funding.uow().outbox_table.delete())
    result = _export("grants", tmp_path, env)
    assert result.exit_code == 0, result.output
    report = _scdl_report(tmp_path / "subventions.csv")
    assert report.valid, _errors(report)
    rows = {r["idSubvention"]: r for r in _rows(tmp_path / "subventions.csv")}
    assert set(rows) == {grants["staggered"], grants["single"]}
    staggered, single = rows[grants["staggered"]], rows[grants["single"]]
    first, last = TODAY + timedelta(days=1), TODAY + timedelta(days=400)
    assert (
        staggered["idAttribuant"],
        staggered["montant"],
        staggered["conditionsVersement"],
        staggered["datesPeriodeVersement"],
        staggered["rnaBeneficiaire"],
        staggered["idBeneficiaire"],
    ) == (FUNDER_SIRET, "15000.50", "échelonné", f"{first}/{last}", "W353012345", "")
    awarded_on, exported_on = date.fromisoformat(staggered["dateConvention"]), date.fromisoformat(staggered["dateMiseAJour"])
    assert exported_on == utcnow().date() and exported_on - timedelta(days=1) <= awarded_on <= exported_on
    assert staggered["referenceDecision"].startswith("Loi n° 2026-12")
    assert (single["conditionsVersement"], single["datesPeriodeVersement"], single["montant"]) == (
        "unique",
        TODAY.isoformat(),
        "2500.00",
    )
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING: ")]
    assert [w for w in warnings if grants["by_siren"] in w and "SIREN 233500016 only" in w]
    assert [w for w in warnings if grants["no_funder"] in w and "names no funder" in w]
    assert [w for w in warnings if grants["single"] in w and "without idBeneficiaire or rnaBeneficiaire" in w]
    assert result.stderr.splitlines()[-1].endswith("2 left out (see the warnings)")


def test_the_same_validation_reports_a_funder_siret_of_13_digits(filled, tmp_path):
    env, _, _ = filled
    assert _export("grants", tmp_path, env).exit_code == 0
    path = tmp_path / "subventions.csv"
    rows = _rows(path)
    rows[0]["idAttribuant"] = rows[0]["idAttribuant"][:13]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report = _scdl_report(path)
    assert not report.valid
    assert [e[1:3] for e in _errors(report)] == [["idAttribuant", "constraint-error"]]


def test_an_export_never_creates_a_missing_database(tmp_path):
    env = {
        "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path}/absent.db",
        "FUNDING_DATABASE_URL": f"sqlite:///{tmp_path}/absent-too.db",
    }
    for what in ("registry", "grants"):
        result = _export(what, tmp_path / "out", env)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1].startswith(f"spc export {what}: ")
        assert "database does not exist" in result.stderr
    assert not (tmp_path / "absent.db").exists()
