"""Registry rules, with nothing running."""

import copy
from datetime import date, timedelta

import pytest

from spc.services.registry.domain.model import CitizenService, IllegalTransition
from spc.services.registry.domain.pact import siren_valid
from tests.pacts import full_pact, pact_of
from spc.shared.core.errors import Conflict, InvalidRequest


def pact(**over):
    base = dict(
        name="Crèche Les Lutins",
        legal_form="association",
        mission="parental crèche",
        contact_email="contact@lutins.fr",
        departments=["35"],
        rna="W351000123",
    )
    base.update(over)
    return pact_of(base)


def active_service():
    service = CitizenService.register("s1", pact())
    service.approve()
    service.pull_events()
    return service


@pytest.mark.parametrize(
    "siren,ok", [("732829320", True), ("732829321", False), ("12345678", False), ("abcdefghi", False), ("356000000", True)]
)
def test_siren_must_be_nine_digits_passing_luhn(siren, ok):
    assert siren_valid(siren) is ok


@pytest.mark.parametrize(
    "field,value",
    [
        ("siren", "123456789"),
        ("rna", "X123456789"),
        ("legal_form", "cartel"),
        ("contact_email", "nobody"),
        ("departments", ["20"]),
        ("communes", ["7505"]),
        ("commitments", ["profit"]),
    ],
)
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
    service.apply_audit_decision(2, 1, "f2")  # newer: a second violation is open
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


# -- found by the mutation run (docs/mutation.md) ----------------------------------------------------


def read_back(text):
    """A string equal to `text` but not the same object, as a status read from the database is."""
    return "".join(list(text))


def test_a_suspension_keeps_when_and_which_principle_until_that_violation_is_resolved():
    from datetime import datetime

    service, at = active_service(), datetime(2026, 3, 1, 9, 0)
    service.apply_audit_decision(1, 1, "f1", principle="neutrality", at=at)
    [event] = service.pull_events()
    assert event.reason == "a violation of neutrality is open (finding f1)"
    assert (service.suspended_since, service.suspension_principle) == (at, "neutrality")
    service.apply_audit_decision(2, 2, "f2", principle="equal_access", at=datetime(2026, 3, 2))
    assert (service.suspended_since, service.suspension_principle) == (at, "neutrality")  # still the first
    other = copy.deepcopy(service)
    other.apply_audit_decision(3, 1, "f2", principle="equal_access")  # the other one resolved
    assert other.suspension_principle == "neutrality"
    service.apply_audit_decision(3, 1, "f1", principle=read_back("neutrality"))  # the first one resolved
    assert service.suspension_principle is None and service.status == "suspended"
    service.apply_audit_decision(4, 0, "f2")
    assert (service.status, service.suspended_since, service.suspension_principle) == ("active", None, None)


def test_a_suspension_without_a_principle_says_a_violation_is_open():
    service = active_service()
    service.apply_audit_decision(1, 1, "f1")
    assert service.pull_events()[0].reason == "a violation is open (finding f1)"


def test_the_principle_is_forgotten_only_when_one_violation_of_several_is_resolved():
    service = active_service()
    service.apply_audit_decision(1, 2, "f1", principle="neutrality")
    service.apply_audit_decision(2, 2, "f2", principle="neutrality")  # as many open: none resolved
    assert service.suspension_principle == "neutrality"
    service.apply_audit_decision(3, 3, "f3", principle="neutrality")  # one more open
    assert service.suspension_principle == "neutrality"


def test_a_decision_with_no_violation_open_leaves_an_active_service_alone():
    service = active_service()
    assert service.apply_audit_decision(1, 0, "f1") is True
    assert service.status == "active" and service.version == 2 and service.pull_events() == []


@pytest.mark.parametrize("status", ["submitted", "suspended", "expired"])
def test_a_service_can_be_revoked_from_any_status_but_revoked(status):
    service = CitizenService.register("s1", pact())
    service.status = read_back(status)
    service.revoke("fraud")
    assert service.status == "revoked"
    service.status = read_back("revoked")
    with pytest.raises(IllegalTransition):
        service.revoke("again")


@pytest.mark.parametrize("status", ["active", "suspended", "expired", "revoked"])
def test_only_a_submitted_service_can_be_approved(status):
    service = CitizenService.register("s1", pact())
    service.status = status
    with pytest.raises(IllegalTransition):
        service.approve()
    service.status = read_back("submitted")
    service.approve()
    assert service.status == "active"


def test_the_violation_rules_hold_on_statuses_read_back_from_the_database():
    service = active_service()
    service.status = read_back("active")
    service.apply_audit_decision(1, 1, "f1")
    assert service.status == "suspended"
    service.status = read_back("suspended")
    service.apply_audit_decision(2, 0, "f1")
    assert service.status == "active"


def termed():
    """A service under a full pact, whose term ends in three years."""
    return CitizenService.register("s1", pact_of(full_pact()))


def test_a_pact_s_term_ends_the_day_after_its_last_day():
    service = termed()
    service.approve(today=date.today())
    last_day = service.term_ends_on
    assert service.expire(last_day - timedelta(days=1)) is False
    assert service.expire(last_day) is False and service.status == "active"  # its last day is still in term
    assert service.expire(last_day + timedelta(days=1)) is True and service.status == "expired"
    assert service.expire(last_day + timedelta(days=2)) is False  # once


@pytest.mark.parametrize("status", ["submitted", "revoked"])
def test_only_an_active_or_suspended_service_expires(status):
    service = termed()
    service.status = status
    assert service.expire(service.term_ends_on + timedelta(days=1)) is False and service.status == status


def test_a_suspended_service_expires_too():
    service = termed()
    service.approve()
    service.apply_audit_decision(1, 1, "f1")
    assert service.expire(service.term_ends_on + timedelta(days=1)) is True and service.status == "expired"
