"""The registry's use cases on an in-memory unit of work: no database, no broker."""

import pytest

from spc.services.registry import handlers
from spc.services.registry.domain import commands
from tests.pacts import pact_of
from spc.shared.messaging.consumer import apply_once
from spc.shared.core.errors import Conflict, InvalidRequest, NotFound, Rejection
from tests.unit.fakes import FakeRegistryUnitOfWork, wire


def pact(**overrides):
    fields = dict(
        name="Crèche Les Lutins",
        legal_form="association",
        rna="W353012345",
        mission="Parent-run crèche",
        contact_email="bureau@lutins.example.org",
        departments=["35"],
    )
    return pact_of(dict(fields, **overrides))


@pytest.fixture
def uow():
    return FakeRegistryUnitOfWork()


def registered(uow, **overrides):
    return handlers.register_service(uow, commands.RegisterService(pact(**overrides), "registrar/x"))


def active(uow):
    sid = registered(uow)["id"]
    handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x"))
    return sid


def decision(sid, audit_version, open_violations, kind="confirmed"):
    return wire(
        f"audit.violation_{kind}",
        {"finding_id": "f-1", "service_id": sid, "open_violations": open_violations, "audit_version": audit_version},
    )


def test_registering_a_service_stores_it_submitted_and_announces_it(uow):
    view = registered(uow)
    assert view["status"] == "submitted" and view["version"] == 1
    [event] = uow.outbox.events
    assert event.event_type == "registry.service_submitted"
    assert event.payload["service_id"] == view["id"] and event.payload["territories"]["departments"] == ["35"]


def test_a_pact_that_breaks_a_rule_is_refused_with_every_problem_and_nothing_is_stored(uow):
    with pytest.raises(InvalidRequest) as err:
        registered(uow, legal_form="club", contact_email="nope")
    assert set(err.value.details["fields"]) == {"legal_form", "contact_email"}
    assert uow.services.rows == {} and uow.outbox.events == []


def test_approving_makes_the_service_active_once(uow):
    sid = active(uow)
    assert uow.outbox.types() == ["registry.service_submitted", "registry.service_approved"]
    with pytest.raises(Conflict) as err:
        handlers.approve_service(uow, commands.ApproveService(sid, "registrar/x"))
    assert err.value.code == "illegal_transition"


def test_revoking_is_final_and_keeps_the_reason(uow):
    sid = active(uow)
    view = handlers.revoke_service(uow, commands.RevokeService(sid, "pact terminated", "registrar/x"))
    assert view["status"] == "revoked" and view["status_reason"] == "pact terminated"
    assert uow.outbox.events[-1].payload["reason"] == "pact terminated"
    with pytest.raises(Conflict):
        handlers.revoke_service(uow, commands.RevokeService(sid, "", "registrar/x"))


def test_a_confirmed_violation_suspends_and_its_resolution_reinstates(uow):
    sid = active(uow)
    assert apply_once(uow, decision(sid, 1, 1), handlers.EVENT_HANDLERS["audit.violation_confirmed"])
    assert handlers.get_service(uow, sid)["status"] == "suspended"
    apply_once(uow, decision(sid, 2, 0, "resolved"), handlers.EVENT_HANDLERS["audit.violation_resolved"])
    assert handlers.get_service(uow, sid)["status"] == "active"
    assert uow.outbox.types()[-2:] == ["registry.service_suspended", "registry.service_reinstated"]


def test_a_stale_or_redelivered_decision_changes_nothing(uow):
    sid = active(uow)
    confirmed = decision(sid, 2, 1)
    apply_once(uow, confirmed, handlers.on_audit_decision)
    assert not apply_once(uow, confirmed, handlers.on_audit_decision)  # the same event again
    apply_once(uow, decision(sid, 1, 0, "resolved"), handlers.on_audit_decision)  # older decision
    assert handlers.get_service(uow, sid)["status"] == "suspended"
    assert uow.outbox.types().count("registry.service_suspended") == 1


def test_a_decision_about_an_unknown_service_is_rejected_for_the_dead_letter_queue(uow):
    with pytest.raises(Rejection) as err:
        apply_once(uow, decision("nobody", 1, 1), handlers.on_audit_decision)
    assert err.value.code == "unknown_service"


def test_get_and_list_filter_and_paginate(uow):
    a, b = active(uow), registered(uow, name="Aide aux aînés", departments=["29"])["id"]
    assert handlers.list_services(uow, status="active")["items"][0]["id"] == a
    assert [s["id"] for s in handlers.list_services(uow, department="29")["items"]] == [b]
    page = handlers.list_services(uow, limit=1, offset=1)
    assert page["total"] == 2 and len(page["items"]) == 1
    with pytest.raises(NotFound):
        handlers.get_service(uow, "nobody")


def test_standings_give_each_service_by_id_after_a_cursor(uow):
    ids = sorted([active(uow), registered(uow, name="Soutien scolaire")["id"]])
    assert [s["service_id"] for s in handlers.standings(uow, "", 10)] == ids
    [after_first] = handlers.standings(uow, ids[0], 10)
    assert after_first["service_id"] == ids[1] and after_first["version"] in (1, 2)
