"""The money, traceable (issue 13, item 2): a programme names its funder and its legal basis; a
tranche is released on or after its due date with its evidence, earlier only with a reason;
revocation gives unreleased amounts back to the programme; the totals reconcile."""

from datetime import date, datetime

import pytest
from marshmallow import ValidationError

from spc.services.funding import handlers
from spc.services.funding.domain import commands
from spc.services.funding.domain.funder import Funder
from spc.services.funding.domain.model import FundingAccount, Programme
from spc.services.funding.schemas import ProgrammeIn, ReleaseIn
from spc.shared.messaging.consumer import apply_once
from spc.shared.core.errors import Conflict, InvalidRequest
from spc.shared.web.http import http_status
from tests.funding_ledger import RENNES, walk
from tests.unit.fakes import FakeFundingUnitOfWork, standing

DUE = date(2027, 1, 15)


@pytest.fixture
def uow():
    return FakeFundingUnitOfWork()


def follow(uow, sid, status, version):
    event = standing(sid, status, version)
    apply_once(uow, event, handlers.EVENT_HANDLERS[event.event_type])


def granted(uow, sid="s1", amounts=(100_000, 50_000), programme=None):
    follow(uow, sid, "active", 2)
    prog = programme or handlers.create_programme(uow, commands.CreateProgramme("P", 1_000_000, "fo/x"))
    tranches = [{"amount_cents": a, "due_date": DUE, "milestone": "m"} for a in amounts]
    return prog, handlers.award_grant(uow, commands.AwardGrant(prog["id"], sid, tranches, "fo/x"))


def release(uow, tranche_id, now, evidence=None, reason=None):
    return handlers.release_tranche(uow, commands.ReleaseTranche(tranche_id, "fo/x", evidence, reason), now=now)


@pytest.mark.parametrize(
    "given, problem",
    [
        ({"siret": "21350238800019"}, None),
        ({"siren": "213502388"}, None),
        ({"siret": "35600000000048"}, None),  # La Poste's head office: Luhn
        ({"siret": "35600000000051"}, None),  # another La Poste establishment: digits summing to a multiple of 5
        ({"siret": "35600000000052"}, "funder.siret"),
        ({"siret": "21350238800018"}, "funder.siret"),
        ({"siret": "21350238900019"}, "funder.siret"),  # its SIREN is wrong
        ({"siren": "213502389"}, "funder.siren"),
        ({"siren": "000000000"}, "funder.siren"),
        ({"siret": "21350238800019", "siren": "213502388"}, "funder"),
        ({}, "funder"),
    ],
)
def test_a_funder_is_named_by_a_luhn_valid_siret_or_siren(given, problem):
    if problem is None:
        funder = Funder.of("Ville de Rennes", given.get("siret"), given.get("siren"))
        assert (funder.siret, funder.siren) == (given.get("siret"), (given.get("siret") or given["siren"])[:9])
        return
    with pytest.raises(InvalidRequest) as err:
        Funder.of("Ville de Rennes", given.get("siret"), given.get("siren"))
    assert problem in err.value.details["fields"] and http_status(type(err.value)) == 400


def test_a_programme_names_its_funder_and_legal_basis_in_its_views_and_its_event(uow):
    prog = handlers.create_programme(
        uow, commands.CreateProgramme("Petite enfance", 1_000, "fo/x", RENNES, "Délibération n° 2026-0412")
    )
    funder = {"name": "Ville de Rennes", "siren": "213502388", "siret": "21350238800019"}
    assert (prog["funder"], prog["legal_basis"]) == (funder, "Délibération n° 2026-0412")
    assert handlers.get_programme(uow, prog["id"])["funder"] == funder
    [event] = uow.outbox.events
    assert (event.payload["funder"], event.payload["legal_basis"]) == (funder, "Délibération n° 2026-0412")


def test_a_programme_opened_as_contract_v1_shows_its_funder_and_legal_basis_missing(uow):
    body = ProgrammeIn().load({"name": "P", "budget_cents": 1_000})
    prog = handlers.create_programme(
        uow, commands.CreateProgramme(body["name"], body["budget_cents"], "fo/x", body["funder"], body["legal_basis"])
    )
    assert (prog["funder"], prog["legal_basis"]) == (None, None)
    assert (uow.outbox.events[0].payload["funder"], uow.outbox.events[0].payload["legal_basis"]) == (None, None)


def test_a_release_before_the_due_date_without_a_reason_is_refused_and_changes_nothing(uow):
    _, grant = granted(uow)
    tranche_id = grant["tranches"][0]["id"]
    for reason in (None, "  "):
        with pytest.raises(Conflict) as err:
            release(uow, tranche_id, datetime(2027, 1, 14, 23, 59), reason=reason)
        assert (http_status(type(err.value)), err.value.code) == (409, "release_before_due_date")
        assert err.value.details["due_date"] == "2027-01-15"
    assert handlers.service_funding(uow, "s1")["grants"][0]["tranches"][0]["status"] == "scheduled"
    assert "funding.tranche_released" not in uow.outbox.types() and uow.funding.payment_orders == {}


def test_an_early_release_records_its_reason_on_the_tranche_and_in_the_payment_order(uow):
    _, grant = granted(uow)
    view = release(
        uow, grant["tranches"][0]["id"], datetime(2027, 1, 2, 8, 0), evidence="CR-AG-2026-12", reason="opening advanced"
    )
    assert (view["status"], view["released_by"], view["released_at"]) == ("released", "fo/x", "2027-01-02T08:00:00+00:00")
    assert (view["release_evidence"], view["release_reason"]) == ("CR-AG-2026-12", "opening advanced")
    [order] = [e for e in uow.outbox.events if e.event_type == "funding.tranche_released"]
    assert {k: order.payload[k] for k in ("released_at", "due_date", "evidence", "reason")} == {
        "released_at": "2027-01-02T08:00:00+00:00",
        "due_date": "2027-01-15",
        "evidence": "CR-AG-2026-12",
        "reason": "opening advanced",
    }


def test_a_release_on_its_due_date_needs_no_body_and_records_evidence_when_given(uow):
    _, grant = granted(uow)
    first, second = (t["id"] for t in grant["tranches"])
    body = ReleaseIn().load({})  # no body at all, as contract v1 clients send
    bare = release(uow, first, datetime(2027, 1, 15, 0, 0), body["evidence"], body["reason"])
    assert (bare["status"], bare["release_evidence"], bare["release_reason"]) == ("released", None, None)
    url = "https://petitspas.example.org/pv-ouverture.pdf"
    assert release(uow, second, datetime(2027, 3, 1), evidence=url)["release_evidence"] == url


@pytest.mark.parametrize(
    "evidence, ok",
    [
        ("https://petitspas.example.org/pv.pdf", True),
        ("PV de l'AG du 2 mars 2027 : approuvé", True),
        ("Délibération n° 2027-12", True),
        ("CR-2027-03", True),
        ("http://petitspas.example.org/pv.pdf", False),
        ("javascript:alert(1)", False),
        ("urn:x:1", False),
        ("https://a b", False),
        ("", False),
        ("x" * 501, False),
    ],
)
def test_evidence_is_an_https_url_or_a_reference_that_does_not_look_like_a_url(evidence, ok):
    if ok:
        assert ReleaseIn().load({"evidence": evidence})["evidence"] == evidence
    else:
        with pytest.raises(ValidationError):
            ReleaseIn().load({"evidence": evidence})


def test_the_frozen_check_comes_before_the_due_date_check():
    acc = FundingAccount("s1")
    acc.apply_standing("active", 2)
    grant = acc.award("g", Programme("p", "P", 1_000), [{"amount_cents": 10, "due_date": DUE}], lambda: "t")
    acc.apply_standing("suspended", 3)
    with pytest.raises(Conflict) as err:
        acc.release(grant.tranches[0].id, "fo/x", datetime(2027, 1, 1))
    assert err.value.code == "funding_frozen"


def test_revocation_gives_every_unreleased_amount_back_to_its_own_programme(uow):
    a, _ = granted(uow, amounts=(100_000, 50_000))
    b = handlers.create_programme(uow, commands.CreateProgramme("B", 500_000, "fo/x"))
    _, from_b = granted(uow, amounts=(30_000, 20_000), programme=b)
    release(uow, from_b["tranches"][0]["id"], datetime(2027, 2, 1))
    follow(uow, "s1", "suspended", 3)
    follow(uow, "s1", "revoked", 4)
    a, b = (handlers.get_programme(uow, p["id"]) for p in (a, b))
    assert (a["committed_cents"], a["available_cents"], a["cancelled_cents"]) == (0, 1_000_000, 150_000)
    assert (b["committed_cents"], b["available_cents"], b["released_cents"]) == (30_000, 470_000, 30_000)
    follow(uow, "s1", "revoked", 4)  # the same standing again: nothing given back twice
    assert handlers.get_programme(uow, a["id"])["committed_cents"] == 0


def test_the_totals_reconcile_at_every_step_of_the_story_on_the_fakes(uow):
    steps = dict(walk(lambda: uow))
    assert steps["grants awarded"] == {"A petite enfance": (1_000_000, 0), "B contract v1": (120_000, 380_000)}
    assert steps["frozen then revoked"]["A petite enfance"] == (750_000, 250_000)
    assert steps["revoked"] == {"A petite enfance": (450_000, 550_000), "B contract v1": (50_000, 450_000)}
    assert steps["money given back granted again"]["A petite enfance"] == (1_000_000, 0)
