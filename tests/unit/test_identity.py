"""Identity checks against the national registries (issue 20): the rule on a registry's record
(domain/identity.py), what the registry keeps and publishes, and the approval it guards; on an
in-memory unit of work and a port answering from a dict."""

import pytest

from spc.services.registry import handlers
from spc.services.registry.domain import commands, identity
from spc.services.registry.domain.identity import RegistryUnavailable, UnitRecord, assess
from spc.shared.core.errors import Conflict
from tests.pacts import pact_of
from tests.unit.fakes import FakeRegistryUnitOfWork

SIREN = "552100554"
CRECHE = UnitRecord(SIREN, "LES LUTINS", active=True, legal_nature="9220", association=True, rna="W353012345")


class Registries(identity.IdentityRegistries):
    """The port, answering from `units`; `down` makes it unable to answer."""

    name = "test-registries"

    def __init__(self, units=(), down=False):
        self.units, self.down, self.asked = {u.siren: u for u in units}, down, []

    def unit(self, siren):
        self.asked.append(siren)
        if self.down:
            raise RegistryUnavailable("over its limits (429)")
        return self.units.get(siren)


@pytest.mark.parametrize(
    "legal_form,record,rna,outcome,fields",
    [
        ("association", CRECHE, "W353012345", "verified", set()),
        ("association", CRECHE, None, "verified", set()),
        (
            "association",
            UnitRecord(SIREN, "X", False, "9220", True, "W353012345"),
            "W353012345",
            "mismatch",
            {"etat_administratif"},
        ),
        ("association", CRECHE, "W353099999", "mismatch", {"rna"}),
        ("association", UnitRecord(SIREN, "X", True, "5710"), None, "mismatch", {"legal_form"}),
        ("association", UnitRecord(SIREN, "X", True, "9220", association=False), None, "mismatch", {"legal_form"}),
        ("company", UnitRecord(SIREN, "X", True, "5710"), None, "verified", set()),
        ("company", CRECHE, None, "mismatch", {"legal_form"}),
        ("scic", UnitRecord(SIREN, "X", True, "5710", ess=True), None, "verified", set()),
        ("scic", UnitRecord(SIREN, "X", True, "5710", ess=False), None, "mismatch", {"est_ess"}),
        ("cooperative", UnitRecord(SIREN, "X", True, "6317", ess=True), None, "verified", set()),
        ("foundation", UnitRecord(SIREN, "X", True, "9300"), None, "verified", set()),
        ("public_body", UnitRecord(SIREN, "X", True, "7210"), None, "verified", set()),
        ("public_body", UnitRecord(SIREN, "X", True, "5499"), None, "mismatch", {"legal_form"}),
        ("association", None, None, "not_found", {"siren"}),
    ],
)
def test_a_record_verifies_the_declared_identity_or_says_what_disagrees(legal_form, record, rna, outcome, fields):
    found = assess(legal_form, SIREN, rna, record, "test")
    assert (found.outcome, set(found.fields)) == (outcome, fields)


def test_what_cannot_be_asked_is_unverified_and_an_informal_collective_has_nothing_to_check():
    assert identity.check(Registries(down=True), "association", SIREN, None).outcome == "unverified"
    assert identity.check(Registries(), "association", None, "W353012345").outcome == "unverified"  # RNA only
    assert identity.check(Registries(), "informal_collective", None, None).outcome == "not_applicable"


def pact(**overrides):
    fields = dict(
        name="Crèche Les Lutins",
        legal_form="association",
        rna="W353012345",
        siren=SIREN,
        mission="Parent-run crèche",
        contact_email="bureau@lutins.example.org",
        departments=["35"],
    )
    return pact_of(dict(fields, **overrides))


def register(uow, registries, **overrides):
    return handlers.register_service(uow, commands.RegisterService(pact(**overrides), "registrar/x"), registries=registries)


def test_a_verified_identity_is_kept_shown_and_published():
    uow = FakeRegistryUnitOfWork()
    view = register(uow, Registries([CRECHE]))
    assert view["identity"]["outcome"] == "verified" and view["identity"]["source"] == "test-registries"
    assert uow.outbox.types() == ["registry.service_submitted", "registry.identity_verified"]
    assert uow.outbox.events[-1].payload == {
        "service_id": view["id"],
        "outcome": "verified",
        "fields": {},
        "source": "test-registries",
        "siren": SIREN,
    }


def test_a_mismatch_is_published_and_its_approval_needs_a_reason():
    uow = FakeRegistryUnitOfWork()
    closed = UnitRecord(SIREN, "LES LUTINS", False, "9220", True, "W353012345")
    sid = register(uow, Registries([closed]))["id"]
    assert uow.outbox.types()[-1] == "registry.identity_mismatch"
    for reason in (None, "  "):
        with pytest.raises(Conflict) as err:
            handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x", reason))
        assert err.value.code == "identity_mismatch" and "etat_administratif" in err.value.details["fields"]
    view = handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x", "reopened last week"))
    assert view["status"] == "active" and view["status_reason"] == "reopened last week"


def test_a_registration_the_registries_cannot_answer_is_accepted_unverified_and_settled_by_the_recheck():
    uow, registries = FakeRegistryUnitOfWork(), Registries([CRECHE], down=True)
    sid = register(uow, registries)["id"]
    assert handlers.get_service(uow, sid)["identity"]["outcome"] == "unverified"
    assert uow.outbox.types() == ["registry.service_submitted"]
    handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x"))  # unverified does not block
    assert handlers.recheck_identities(uow, registries, every_seconds=0) == 0  # still down: nothing settled
    registries.down = False
    assert handlers.recheck_identities(uow, registries, every_seconds=0) == 1
    assert handlers.get_service(uow, sid)["identity"]["outcome"] == "verified"
    assert uow.outbox.types()[-1] == "registry.identity_verified"
    assert handlers.recheck_identities(uow, registries, every_seconds=0) == 0  # settled: not asked again
    assert registries.asked == [SIREN] * 3


def test_a_later_unverified_answer_never_undoes_a_settled_one():
    from datetime import datetime

    uow = FakeRegistryUnitOfWork()
    sid = register(uow, Registries([CRECHE]))["id"]
    service = uow.services.get(sid)
    assert service.record_identity(identity.IdentityCheck("unverified", {}, "down"), datetime(2027, 1, 1)) is False
    assert service.identity_status == "verified"


def test_a_settled_outcome_changes_when_the_registries_change_their_word_and_is_published_once():
    from datetime import datetime

    uow = FakeRegistryUnitOfWork()
    sid = register(uow, Registries([CRECHE]))["id"]
    service, at = uow.services.get(sid), datetime(2027, 1, 1)
    closed = identity.IdentityCheck("mismatch", {"etat_administratif": "ceased"}, "test")
    assert service.record_identity(closed, at) is True and service.identity_status == "mismatch"
    assert service.record_identity(closed, at) is False  # the same word again: nothing new
    assert service.record_identity(identity.IdentityCheck("verified", {}, "test"), at) is True
    assert service.record_identity(identity.IdentityCheck("verified", {}, "test"), at) is False
    assert [(e.event_type, e.outcome) for e in service.pull_events()] == [  # the first went at registration
        ("registry.identity_mismatch", "mismatch"),
        ("registry.identity_verified", "verified"),
    ]


def test_an_rna_only_association_is_asked_of_the_rna_where_a_registry_serves_it_and_rechecked_then():
    class Rna(Registries):
        serves_rna, rna_name = True, "test-rna"

        def association(self, rna):
            self.asked.append(rna)
            if self.down:
                raise RegistryUnavailable("answered 502")
            return {"W353012345": CRECHE}.get(rna)

    uow, registries = FakeRegistryUnitOfWork(), Rna(down=True)
    sid = register(uow, registries, siren=None)["id"]
    assert handlers.get_service(uow, sid)["identity"]["source"] == "test-rna: answered 502"
    assert handlers.recheck_identities(uow, Registries(), every_seconds=0) == 0  # no RNA registry: not asked
    registries.down = False
    assert handlers.recheck_identities(uow, registries, every_seconds=0) == 1
    assert handlers.get_service(uow, sid)["identity"]["outcome"] == "verified"
    assert identity.check(registries, "association", None, "W353000000").fields == {
        "rna": "no association with this RNA number in the RNA"
    }
