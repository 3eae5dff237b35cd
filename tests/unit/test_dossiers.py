"""Reading a Démarches Simplifiées dossier as a pact (domain/dossiers.py, ds_intake.pact_of):
the mapping per démarche and revision, what each state means, and errors that name the champ."""

import pytest

from spc.services.registry import ds_intake
from spc.services.registry.domain.dossiers import Dossier, MalformedDossier, Mapping, action
from tests.ds_dossiers import EXAMPLE, REVISION, champs_of
from tests.pacts import full_pact


def dossier(body, revision=REVISION, state="en_construction", **over):
    champs = tuple((cid, label, value) for cid, (label, value) in champs_of(body).items())
    return Dossier(
        number=over.pop("number", 7),
        state=state,
        updated_at=over.pop("updated_at", "2027-03-01T09:01:00+00:00"),
        demarche=4242,
        revision=revision,
        champs=champs,
        **over,
    )


def mapping():
    return Mapping.from_toml(EXAMPLE.read_text(encoding="utf-8"), "example")


def test_the_example_mapping_reads_a_full_pact_back_from_its_champs():
    body = full_pact()
    pact = ds_intake.pact_of(dossier(body), mapping())
    assert pact.to_dict()["governance"] == body["governance"] and pact.siren == body["siren"]
    assert pact.territories.departments == ["35"] and pact.to_dict()["term"] == body["term"]
    assert pact.to_dict()["signatories"] == body["signatories"]
    assert {c["principle"]: c["text"] for c in pact.to_dict()["commitments"]} == {
        c["principle"]: c["text"] for c in body["commitments"]
    }


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


@pytest.mark.parametrize(
    "state,expected",
    [
        ("en_construction", "submit"),
        ("en_instruction", "submit"),
        ("accepte", "approve"),
        ("refuse", "close"),
        ("sans_suite", "close"),
    ],
)
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
        Service(status=status, status_reason=reason, name="Les Lutins")
    )
    assert told("submitted") is None  # the first look: nothing to tell
    assert told("active") is None  # an approval is DS's own news
    assert "est suspendu (a violation of neutrality is open)" in told("suspended", "a violation of neutrality is open")
    assert told("suspended") is None  # told once
    assert "est rétabli" in told("active")
    assert told("revoked") is None and told("active") is None  # only a reinstatement after a suspension


def test_an_error_names_the_champ_of_the_exact_part():
    body = full_pact()
    body["governance"]["responsible"]["email"] = "not-an-email"
    with pytest.raises(MalformedDossier) as err:
        ds_intake.pact_of(dossier(body), mapping())
    assert err.value.field == "champ Q2hhbXAtMTI0 (governance › responsible › email)", err.value
    assert err.value.why.startswith("governance.responsible.email: ")
    m = mapping()
    assert m.champ_of(dossier(full_pact()), "commitments.governance").startswith("champ Q2hhbXAtMTM3")
    assert m.champ_of(dossier(full_pact()), "territories.communes").startswith("champ Q2hhbXAtMTA4")


def _intake():
    from tests.unit.fakes import FakeRegistryUnitOfWork

    return FakeRegistryUnitOfWork()


def test_a_rule_of_the_registry_parks_the_dossier_and_the_rest_goes_on():
    uow, m = _intake(), mapping()
    body = full_pact()
    assert ds_intake.apply_dossier(uow, dossier(body), m) == "applied"
    link = uow.services.dossier(7)
    uow.services.get(link.service_id).open_violations = 1  # a violation reported before the acceptance
    accepted = dossier(body, state="accepte", updated_at="2027-03-02T09:00:00+00:00")
    assert ds_intake.apply_dossier(uow, accepted, m) == "parked"
    assert link.problem.startswith("open_violations: ")
    uow.services.get(link.service_id).open_violations = 0  # resolved: the same change applies on a retry
    assert ds_intake.apply_dossier(uow, accepted, m) == "applied" and link.problem is None
    renamed = dossier(dict(body, name="Autre nom"), number=8)
    assert ds_intake.apply_dossier(uow, renamed, m) == "applied"
    changed = dossier(dict(body, name="Encore un autre"), number=8, updated_at="2027-03-03T09:00:00+00:00")
    assert ds_intake.apply_dossier(uow, changed, m) == "parked"
    assert "not amendable" in uow.services.dossier(8).problem and "'name'" in uow.services.dossier(8).problem


def test_a_dossier_edited_then_accepted_between_two_reads_is_approved_with_its_last_pact():
    uow, m = _intake(), mapping()
    body = full_pact()
    ds_intake.apply_dossier(uow, dossier(body), m)
    edited = dict(body, contact_email="nouveau@petitspas.example.org")
    assert ds_intake.apply_dossier(uow, dossier(edited, state="accepte", updated_at="2027-03-02T09:00:00+00:00"), m) == "applied"
    service = uow.services.get(uow.services.dossier(7).service_id)
    assert service.status == "active" and service.pact.contact_email == "nouveau@petitspas.example.org"


def test_a_message_to_the_applicant_is_claimed_by_one_process_and_a_refused_one_holds_back_no_other():
    from datetime import timedelta
    from spc.services.registry.ds_client import DsError
    from spc.shared.core.clock import utcnow

    uow, m = _intake(), mapping()
    for n in (7, 8):
        ds_intake.apply_dossier(uow, dossier(full_pact(name=f"Crèche {n}"), number=n, id=f"RG9zc2llci0{n}"), m)
    ds_intake.tell_applicants(uow, None, "i")  # the first look: nothing to tell
    for n in (7, 8):
        service = uow.services.get(uow.services.dossier(n).service_id)
        service.status, service.status_reason = "suspended", "a violation is open"
    sent = []

    class Client:
        def send_message(self, ds_id, instructeur, body):
            if ds_id.endswith("7"):
                raise DsError("instructeur not in the groupe")
            sent.append(ds_id)

    uow.services.dossier(8).notify_claimed_at = utcnow()  # another process is sending it
    assert ds_intake.tell_applicants(uow, Client(), "i") == 0 and sent == []
    uow.services.dossier(8).notify_claimed_at = utcnow() - timedelta(minutes=6)  # that process stopped
    assert ds_intake.tell_applicants(uow, Client(), "i") == 1 and sent == ["RG9zc2llci08"]
    assert uow.services.dossier(7).notified_status != "suspended"  # refused: told next round
    assert ds_intake.tell_applicants(uow, Client(), "i") == 0 and sent == ["RG9zc2llci08"]


def test_one_registry_process_polls_a_demarche_at_a_time_and_a_stopped_one_lapses():
    from datetime import timedelta
    from spc.services.registry.ds_client import Page
    from spc.shared.core.clock import utcnow

    uow, m, asked = _intake(), mapping(), []

    class Client:
        def dossiers(self, demarche, after=None, updated_since=None):
            asked.append(after)
            return Page([], False, None)

        def deleted_dossiers(self, demarche, deleted_since=None):
            return []

    cursor = uow.services.cursor(4242)
    cursor.polling_until = utcnow() + timedelta(minutes=5)  # another process polls it now
    assert ds_intake.sync_demarche(uow, Client(), m) == {} and asked == []
    cursor.polling_until = utcnow() - timedelta(seconds=1)  # it stopped: its lease lapsed
    assert ds_intake.sync_demarche(uow, Client(), m) == {} and asked == [None]
    assert cursor.polling_until is None  # released at the round's end


def test_a_mapping_that_names_no_part_of_a_pact_or_the_wrong_demarche_is_refused(tmp_path):
    from spc.services.registry.demarches import load_mappings

    with pytest.raises(ValueError, match="contact_mail is no part of a pact"):
        Mapping.from_toml('demarche = 1\n[revisions."r"]\ncontact_mail = "c"', "x.toml")
    with pytest.raises(ValueError, match="commitments.kindness is no part of a pact"):
        Mapping.from_toml('demarche = 1\n[revisions."r"]\n"commitments.kindness" = "c"', "x.toml")
    (tmp_path / "4243.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ValueError, match="maps démarche 4242; name it 4242.toml"):
        load_mappings(tmp_path)
