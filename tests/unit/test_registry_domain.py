"""Registry rules, with nothing running."""
import pytest

from spc.services.registry.domain.model import CitizenService, IllegalTransition
from spc.services.registry.domain.pact import siren_valid
from tests.pacts import pact_of
from spc.shared.errors import Conflict, InvalidRequest


def pact(**over):
    base = dict(name="Crèche Les Lutins", legal_form="association", mission="parental crèche",
                contact_email="contact@lutins.fr", departments=["35"], rna="W351000123")
    base.update(over)
    return pact_of(base)


def active_service():
    service = CitizenService.register("s1", pact())
    service.approve()
    service.pull_events()
    return service


@pytest.mark.parametrize("siren,ok", [("732829320", True), ("732829321", False), ("12345678", False),
                                      ("abcdefghi", False), ("356000000", True)])
def test_siren_must_be_nine_digits_passing_luhn(siren, ok):
    assert siren_valid(siren) is ok


@pytest.mark.parametrize("field,value", [
    ("siren", "123456789"), ("rna", "X123456789"), ("legal_form", "cartel"),
    ("contact_email", "nobody"), ("departments", ["20"]), ("communes", ["7505"]),
    ("commitments", ["profit"]),
])
def test_a_pact_breaking_a_rule_is_refused(field, value):
    with pytest.raises(InvalidRequest):
        CitizenService.register("s1", pact(**{field: value}))


def test_a_pact_needs_a_territory():
    with pytest.raises(InvalidRequest):
        CitizenService.register("s1", pact(departments=[], communes=[]))


def test_registration_starts_submitted_and_records_the_event():
    service = CitizenService.register("s1", pact(communes=["35238"]))
    assert service.status == "submitted" and service.version == 1
    [event] = service.pull_events()
    assert event.event_type == "registry.service_submitted"
    assert event.territories == {"departments": ["35"], "communes": ["35238"], "regions": [], "national": False}


def test_approval_makes_a_submitted_service_active_and_bumps_the_version():
    service = active_service()
    assert service.status == "active" and service.version == 2


def test_approving_twice_is_an_illegal_transition():
    service = active_service()
    with pytest.raises(IllegalTransition):
        service.approve()


def test_a_violation_suspends_an_active_service():
    service = active_service()
    assert service.apply_audit_decision(1, 1, "f1")
    assert service.status == "suspended" and service.version == 3
    assert [e.event_type for e in service.pull_events()] == ["registry.service_suspended"]


def test_the_last_resolved_violation_reinstates_the_service():
    service = active_service()
    service.apply_audit_decision(1, 2, "f1")
    service.apply_audit_decision(2, 1, "f1")
    assert service.status == "suspended"
    service.apply_audit_decision(3, 0, "f2")
    assert service.status == "active" and service.version == 4


def test_a_stale_audit_decision_never_undoes_a_newer_one():
    service = active_service()
    service.apply_audit_decision(2, 1, "f2")       # newer: a second violation is open
    assert not service.apply_audit_decision(1, 0, "f1")  # older resolution arrives late
    assert service.status == "suspended"


def test_a_redelivered_audit_decision_is_ignored():
    service = active_service()
    service.apply_audit_decision(1, 1, "f1")
    service.pull_events()
    assert not service.apply_audit_decision(1, 1, "f1")
    assert service.pull_events() == []


def test_a_revoked_service_stays_revoked():
    service = active_service()
    service.revoke("fraud")
    with pytest.raises(IllegalTransition):
        service.revoke("again")
    service.apply_audit_decision(1, 0, "f1")
    assert service.status == "revoked"


def test_a_service_with_open_violations_cannot_be_approved():
    service = CitizenService.register("s1", pact())
    service.apply_audit_decision(1, 1, "f1")
    with pytest.raises(Conflict):
        service.approve()
