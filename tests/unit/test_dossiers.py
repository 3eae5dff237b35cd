"""Reading a Démarches Simplifiées dossier as a pact (domain/dossiers.py, ds_intake.pact_of):
the mapping per démarche and revision, what each state means, and errors that name the champ."""
import pytest

from spc.services.registry import ds_intake
from spc.services.registry.domain.dossiers import Dossier, MalformedDossier, Mapping, action
from tests.ds_dossiers import EXAMPLE, REVISION, champs_of
from tests.pacts import full_pact


def dossier(body, revision=REVISION, state="en_construction", **over):
    champs = tuple((cid, label, value) for cid, (label, value) in champs_of(body).items())
    return Dossier(number=over.pop("number", 7), state=state, updated_at="2027-03-01T09:01:00+00:00",
                   demarche=4242, revision=revision, champs=champs, **over)


def mapping():
    return Mapping.from_toml(EXAMPLE.read_text(encoding="utf-8"), "example")


def test_the_example_mapping_reads_a_full_pact_back_from_its_champs():
    body = full_pact()
    pact = ds_intake.pact_of(dossier(body), mapping())
    assert pact.to_dict()["governance"] == body["governance"] and pact.siren == body["siren"]
    assert pact.territories.departments == ["35"] and pact.to_dict()["term"] == body["term"]
    assert pact.to_dict()["signatories"] == body["signatories"]
    assert {c["principle"]: c["text"] for c in pact.to_dict()["commitments"]} == {
        c["principle"]: c["text"] for c in body["commitments"]}


def test_a_champ_that_breaks_a_rule_is_named_with_its_label():
    with pytest.raises(MalformedDossier) as err:
        ds_intake.pact_of(dossier(full_pact(siren="123456789")), mapping())
    assert err.value.field == "champ Q2hhbXAtMTAz (siren)" and "siren" in err.value.why
    with pytest.raises(MalformedDossier) as err:
        ds_intake.pact_of(dossier(full_pact(contact_email="nope")), mapping())
    assert "contact_email" in str(err.value)


def test_a_revision_without_mapping_is_malformed_and_another_revision_reads_its_own_champs():
    with pytest.raises(MalformedDossier, match="no mapping for revision UmV2LTI="):
        mapping().pact_body(dossier(full_pact(), revision="UmV2LTI="))
    two = Mapping(4242, {"UmV2LTI=": {"name": "bmV3LW5hbWU="}})
    d = Dossier(7, "en_construction", "t", 4242, "UmV2LTI=", champs=(("bmV3LW5hbWU=", "Nom", "Les Lutins"),))
    assert two.pact_body(d) == {"name": "Les Lutins", "territories": {}}


@pytest.mark.parametrize("state,expected", [("en_construction", "submit"), ("en_instruction", "submit"),
                                            ("accepte", "approve"), ("refuse", "close"), ("sans_suite", "close")])
def test_each_ds_state_has_its_action(state, expected):
    assert action(state) == expected


def test_an_unknown_state_or_a_bad_mapping_file_is_said_clearly():
    with pytest.raises(MalformedDossier, match="unknown dossier state"):
        action("brouillon")
    with pytest.raises(ValueError, match="needs `demarche"):
        Mapping.from_toml("revisions = 1", "x.toml")
    with pytest.raises(ValueError, match="must name a champ id"):
        Mapping.from_toml('demarche = 1\n[revisions."r"]\nname = 3', "x.toml")


def test_the_applicant_is_told_of_a_suspension_and_of_the_reinstatement_after_it_only():
    from types import SimpleNamespace as Service
    from spc.services.registry.domain.dossiers import DossierLink
    link = DossierLink(7, 4242, service_id="s", ds_id="RG9zc2llci03")
    told = lambda status, reason=None: link.news_for_applicant(  # noqa: E731
        Service(status=status, status_reason=reason, name="Les Lutins"))
    assert told("submitted") is None  # the first look: nothing to tell
    assert told("active") is None  # an approval is DS's own news
    assert "est suspendu (a violation of neutrality is open)" in told("suspended", "a violation of neutrality is open")
    assert told("suspended") is None  # told once
    assert "est rétabli" in told("active")
    assert told("revoked") is None and told("active") is None  # only a reinstatement after a suspension
