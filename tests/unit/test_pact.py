"""The pact's rules (issue 11), with nothing running: identities, territories against INSEE's COG
(real codes), the full pact, its term, amendments and versions, duplicates, expiry."""

from datetime import date, timedelta

import pytest

from spc.services.registry import handlers
from spc.services.registry.domain import commands
from spc.services.registry.domain.model import CitizenService
from spc.services.registry.domain.pact import Pact, siren_problem
from spc.shared.core.errors import Conflict, InvalidRequest
from spc.shared.core.events import PRINCIPLES
from tests.pacts import TEXTS, full_pact
from tests.unit.fakes import FakeRegistryUnitOfWork

TODAY = date(2026, 11, 26)


def problems(**over):
    return Pact.from_dict(full_pact(TODAY, **over)).problems(TODAY)


def v1(**over):
    body = {
        "name": "Crèche Les Lutins",
        "legal_form": "association",
        "rna": "W353012345",
        "mission": "Parent-run crèche",
        "contact_email": "bureau@lutins.example.org",
        "territories": {"departments": ["35"]},
    }
    body.update(over)
    return Pact.from_dict(body)


def test_the_full_pact_of_the_tests_meets_every_rule():
    assert problems() == {}
    assert Pact.from_dict(full_pact(TODAY)).missing() == []


# ---- identities ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "siren,ok",
    [
        ("110044013", True),  # ministère de l'Intérieur
        ("356000000", True),  # La Poste: its SIREN is accepted as is
        ("000000000", False),  # passes Luhn, is no SIREN
        ("110044014", False),
        ("11004401", False),
        ("11004401A", False),
    ],
)
def test_a_siren_is_nine_digits_luhn_and_not_zeros(siren, ok):
    assert (siren_problem(siren) is None) is ok


@pytest.mark.parametrize(
    "form,ids,field",
    [
        ("association", {"siren": None, "rna": None}, "legal_form"),  # neither
        ("company", {"siren": None, "rna": "W353012345"}, "siren"),  # only an RNA number
        ("scop", {"siren": None, "rna": None}, "siren"),
        ("foundation", {"rna": "W353012345"}, "rna"),  # RNA is for associations
        ("informal_collective", {"siren": None, "rna": None}, None),  # the full pact's responsible is its referent
        ("informal_collective", {"rna": None}, "legal_form"),  # a collective with a SIREN is no collective
    ],
)
def test_the_legal_form_agrees_with_the_identifiers(form, ids, field):
    found = problems(legal_form=form, **ids)
    assert (field in found) if field else found == {}


def test_an_informal_collective_without_governance_names_a_referent():
    collective = dict(legal_form="informal_collective", rna=None)
    assert "referent" in v1(**collective).problems()
    assert v1(**collective, referent={"name": "Ana Diallo", "email": "ana@example.org"}).problems() == {}


# ---- territories (INSEE COG 2026) ----------------------------------------------------------------
@pytest.mark.parametrize(
    "territories,field",
    [
        ({"departments": ["2A", "2B"]}, None),  # Corsica
        ({"departments": ["974", "976"]}, None),  # La Réunion, Mayotte
        ({"departments": ["975", "988"]}, None),  # overseas collectivities
        ({"communes": ["75056", "75111", "69381", "13201"]}, None),  # Paris, its 11th, Lyon 1er, Marseille 1er
        ({"communes": ["2A004", "2B033"]}, None),  # Ajaccio, Bastia
        ({"regions": ["53"]}, None),
        ({"national": True}, None),
        ({"departments": ["20"]}, "territories.departments"),  # Corsica is 2A/2B since 1976
        ({"departments": ["985"]}, "territories.departments"),
        ({"communes": ["99999"]}, "territories.communes"),
        ({"communes": ["2A999"]}, "territories.communes"),
        ({"communes": ["75100"]}, "territories.communes"),  # no 100th arrondissement
        ({"departments": ["35"], "communes": ["75056"]}, "territories.communes"),  # Paris is not in 35
        ({"regions": ["53"], "communes": ["35238"]}, None),  # Rennes is in Bretagne
        ({"regions": ["53"], "communes": ["44109"]}, "territories.communes"),  # Nantes is not
        ({"regions": ["99"]}, "territories.regions"),
        ({}, "territories"),
    ],
)
def test_territories_are_checked_against_the_cog(territories, field):
    found = problems(territories=territories)
    assert (field in found) if field else found == {}, found


def test_an_unknown_code_is_named_in_the_answer():
    found = problems(territories={"departments": ["35"], "communes": ["75056", "99999"]})
    assert "'99999'" in found["territories.communes"] and "'75056' (Paris)" in found["territories.communes"]


def test_a_region_covers_its_departments():
    pact = Pact.from_dict(full_pact(TODAY, territories={"regions": ["94"], "communes": ["2A004"]}))
    assert pact.territories.departments_covered() == ["2A", "2B"]


# ---- commitments, governance, signatories, term ---------------------------------------------
def test_a_full_pact_commits_to_every_principle_with_its_text():
    commitments = [{"principle": p, "text": TEXTS[p]} for p in PRINCIPLES if p != "neutrality"]
    assert "commitments.neutrality" in problems(commitments=commitments)


def test_a_full_pact_has_governance_signatories_and_term():
    assert set(problems(governance=None, term=None)) == {"governance", "term"}


def test_a_contract_v1_pact_is_accepted_and_marked_incomplete():
    pact = v1(commitments=["continuity", "equality"])
    assert pact.problems(TODAY) == {}
    assert "commitments.neutrality" in pact.missing() and "governance" in pact.missing()
    assert "commitments" in v1(commitments=[]).problems(TODAY)


@pytest.mark.parametrize(
    "term,field",
    [
        ({"starts_on": "2027-01-01", "ends_on": "2026-12-31"}, "term.ends_on"),
        ({"starts_on": "2024-01-01", "ends_on": "2025-12-31"}, "term.ends_on"),  # ended already
        ({"starts_on": "2026-01-01", "ends_on": "2029-12-31", "pilot": True}, "term.evaluation_on"),
        (
            {"starts_on": "2026-01-01", "ends_on": "2029-12-31", "pilot": True, "evaluation_on": "2031-01-01"},
            "term.evaluation_on",
        ),
        ({"starts_on": "2026-01-01", "ends_on": "2029-12-31", "pilot": True, "evaluation_on": "2028-06-30"}, None),
    ],
)
def test_the_term_and_the_pilot(term, field):
    found = problems(term=term)
    assert (field in found) if field else found == {}, found


@pytest.mark.parametrize(
    "counterpart,field",
    [
        ({"name": "Département d'Ille-et-Vilaine", "kind": "collectivite", "cog": "35"}, None),
        ({"name": "Ville de Rennes", "kind": "collectivite", "cog": "35238"}, None),
        ({"name": "Région Bretagne", "kind": "collectivite", "cog": "53"}, None),
        ({"name": "Nowhere", "kind": "collectivite", "cog": "99999"}, "signatories.public_counterpart.cog"),
        ({"name": "Préfecture", "kind": "state", "siren": "000000000"}, "signatories.public_counterpart.siren"),
        ({"name": "Préfecture", "kind": "state"}, "signatories.public_counterpart"),
    ],
)
def test_the_public_counterpart_is_identified_by_siren_or_cog(counterpart, field):
    signatories = dict(full_pact(TODAY)["signatories"], public_counterpart=counterpart)
    found = problems(signatories=signatories)
    assert (field in found) if field else found == {}, found


# ---- use cases: duplicates, amendments, versions, expiry --------------------------------------
@pytest.fixture
def uow():
    return FakeRegistryUnitOfWork()


def register(uow, **over):
    body = full_pact(TODAY, **over)
    return handlers.register_service(uow, commands.RegisterService(Pact.from_dict(body), "registrar/x"), TODAY)


def approve(uow, sid):
    return handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x"), TODAY)


def amend(uow, sid, today=TODAY, **changes):
    proposed = handlers.propose_amendment(uow, commands.ProposeAmendment(sid, changes, "why", "registrar/x"), today)
    return handlers.approve_amendment(uow, commands.DecideAmendment(sid, proposed["id"], "registrar/y"), today)


def test_the_same_organisation_registering_the_same_service_again_is_told_its_id(uow):
    first = register(uow, siren="110044013", rna=None, legal_form="public_body")
    with pytest.raises(Conflict) as err:
        register(uow, siren="110044013", rna=None, legal_form="public_body", name="  crèche parentale les petits PAS ")
    assert err.value.code == "already_registered" and err.value.details["service_id"] == first["id"]
    register(uow, siren="110044013", rna=None, legal_form="public_body", name="Relais petite enfance")  # another service


def test_an_amendment_makes_a_new_version_and_publishes_the_whole_standing(uow):
    sid = register(uow)["id"]
    approve(uow, sid)
    decided = amend(uow, sid, territories={"departments": ["35", "56"]})
    assert decided["status"] == "approved" and decided["pact_version"] == 2
    event = uow.outbox.events[-1]
    assert event.event_type == "registry.pact_amended"
    assert event.payload["status"] == "active" and event.payload["territories"]["departments"] == ["35", "56"]
    assert event.payload["pact_version"] == 2 and len(event.payload["commitments"]) == 8
    v1_doc = handlers.get_pact(uow, sid, 1)
    assert v1_doc["pact"]["territories"]["departments"] == ["35"] and not v1_doc["current"]
    assert [v["version"] for v in handlers.get_pact(uow, sid)["versions"]] == [1, 2]


def test_an_amended_pact_must_meet_every_rule(uow):
    sid = register(uow)["id"]
    with pytest.raises(InvalidRequest) as err:
        handlers.propose_amendment(
            uow,
            commands.ProposeAmendment(sid, {"territories": {"departments": ["35"], "communes": ["13055"]}}, "why", "registrar/x"),
            TODAY,
        )
    assert "territories.communes" in err.value.details["fields"]


def test_an_amendment_never_reactivates_a_suspended_or_revoked_service(uow):
    sid = register(uow)["id"]
    approve(uow, sid)
    uow.services.get(sid).apply_audit_decision(1, 1, "f-1")
    amend(uow, sid, contact_email="new@petitspas.example.org")
    assert handlers.get_service(uow, sid)["status"] == "suspended"
    handlers.revoke_service(uow, commands.RevokeService(sid, "dissolved", "registrar/x"))
    with pytest.raises(Conflict):
        amend(uow, sid, contact_email="again@petitspas.example.org")
    assert handlers.get_service(uow, sid)["status"] == "revoked"


def test_a_pact_whose_term_ended_expires_and_a_renewal_reactivates_it(uow):
    sid = register(uow)["id"]
    approve(uow, sid)
    ends = date.fromisoformat(handlers.get_service(uow, sid)["term_ends_on"])
    assert handlers.expire_terms(uow, ends) == 0  # the last day is still in the term
    assert handlers.expire_terms(uow, ends + timedelta(days=1)) == 1
    assert uow.outbox.events[-1].event_type == "registry.service_expired"
    assert handlers.get_service(uow, sid)["status"] == "expired"
    later = ends + timedelta(days=2)
    renewal = dict(full_pact(TODAY)["term"], ends_on=(ends + timedelta(days=3 * 365)).isoformat())
    amend(uow, sid, later, term=renewal)
    assert handlers.get_service(uow, sid)["status"] == "active"
    assert uow.outbox.events[-1].payload["status"] == "active"


def test_the_list_filters_by_department_commune_and_principle(uow):
    rennes = register(uow, name="A", territories={"communes": ["35238"]})["id"]
    brittany = register(uow, name="B", territories={"regions": ["53"]})["id"]
    france = register(uow, name="C", territories={"national": True})["id"]
    paris = register(uow, name="D", territories={"communes": ["75111"]})["id"]
    ids = lambda **q: [s["id"] for s in handlers.list_services(uow, **q)["items"]]  # noqa: E731
    assert ids(department="35") == [rennes, brittany, france]
    assert ids(commune="35238") == [rennes, brittany, france]
    assert ids(commune="35047") == [brittany, france]
    assert ids(department="75") == [france, paris]
    assert len(ids(principle="governance")) == 4


def test_proposing_and_rejecting_an_amendment_are_events_and_change_nothing(uow):
    sid = register(uow)["id"]
    approve(uow, sid)
    proposed = handlers.propose_amendment(
        uow, commands.ProposeAmendment(sid, {"territories": {"departments": ["35", "56"]}}, "Morbihan", "registrar/x"), TODAY
    )
    rejected = handlers.reject_amendment(uow, commands.DecideAmendment(sid, proposed["id"], "registrar/y", "not yet"))
    assert rejected["status"] == "rejected" and rejected["decided_by"] == "registrar/y"
    assert uow.outbox.types()[-2:] == ["registry.amendment_proposed", "registry.amendment_rejected"]
    assert uow.outbox.events[-1].payload["parts"] == ["territories"]
    service = handlers.get_service(uow, sid)
    assert service["pact_version"] == 1 and service["territories"]["departments"] == ["35"]
    with pytest.raises(Conflict):
        handlers.approve_amendment(uow, commands.DecideAmendment(sid, proposed["id"], "registrar/y"), TODAY)


def test_a_state_counterpart_is_identified_by_its_siren():
    signatories = dict(full_pact(TODAY)["signatories"], public_counterpart={"name": "Préfecture", "kind": "state", "cog": "35"})
    assert "signatories.public_counterpart.siren" in problems(signatories=signatories)


def test_an_identity_registered_under_older_rules_does_not_block_amendments(uow):
    """A contract-v1 association without SIREN or RNA (accepted before 1.2, kept by the migration)
    can still be amended; its identity is not amendable."""
    old = Pact.from_dict(
        {
            "name": "Vieille asso",
            "legal_form": "association",
            "mission": "m",
            "contact_email": "a@b.fr",
            "territories": {"departments": ["35"]},
        }
    )
    service = CitizenService("s-old", old)
    uow.services.add(service)
    uow.services.keep_version(service, None, "migration/0003", None)
    amend(uow, "s-old", territories={"departments": ["35", "56"]})
    assert handlers.get_service(uow, "s-old")["territories"]["departments"] == ["35", "56"]
    with pytest.raises(InvalidRequest):  # a new problem still refuses the amendment
        amend(uow, "s-old", territories={"communes": ["99999"]})


def test_siren_and_siret_are_one_rule_for_every_service():
    from spc.shared.core.identifiers import luhn_completed, siren_problem, siret_problem

    assert luhn_completed("73282932") == "732829320" and siren_problem("732829320") is None
    assert siren_problem("732829321") == "fails the Luhn check (a digit is wrong)"
    assert siren_problem("356000000") is None and siret_problem("35600000000048") is None  # La Poste's
    assert siret_problem(luhn_completed("7328293200001")) is None
    assert siret_problem("73282932100010").startswith("its first 9 digits are not a SIREN")
