"""Funding's use cases on an in-memory unit of work: no database, no broker."""

from datetime import date

import pytest

from spc.services.funding import handlers
from spc.services.funding.domain import commands
from spc.shared.messaging.consumer import apply_once
from spc.shared.core.errors import Conflict, NotFound, NotYetKnown
from tests.unit.fakes import FakeFundingUnitOfWork, standing, wire

TRANCHES = [
    {"amount_cents": 100_000, "due_date": date(2026, 1, 15), "milestone": "opening"},
    {"amount_cents": 50_000, "due_date": date(2026, 6, 15)},
]


@pytest.fixture
def uow():
    return FakeFundingUnitOfWork()


def follow(uow, sid, status, version):
    event = standing(sid, status, version)
    return apply_once(uow, event, handlers.EVENT_HANDLERS[event.event_type])


def follow_as(uow, event_type, sid, status, version):
    """A standing carried by a given lifecycle event (an expiry, an amendment)."""
    event = wire(
        event_type,
        {
            "service_id": sid,
            "name": "Crèche Les Lutins",
            "status": status,
            "version": version,
            "territories": {"departments": ["35"]},
            "pact_version": 2,
            "commitments": [{"principle": "continuity", "text": "Open 50 weeks a year."}],
        },
    )
    return apply_once(uow, event, handlers.EVENT_HANDLERS[event_type])


def programme(uow, budget=1_000_000):
    return handlers.create_programme(uow, commands.CreateProgramme("Petite enfance", budget, "fo/x"))


def granted(uow, sid="s1", budget=1_000_000):
    follow(uow, sid, "active", 2)
    prog = programme(uow, budget)
    return prog, handlers.award_grant(uow, commands.AwardGrant(prog["id"], sid, TRANCHES, "fo/x"))


def test_a_programme_opens_with_its_whole_budget_available(uow):
    prog = programme(uow)
    assert (prog["committed_cents"], prog["available_cents"]) == (0, 1_000_000)
    single = handlers.get_programme(uow, prog["id"])
    assert single.pop("history") == prog.pop("history") == []  # no staff call: nothing attributed
    assert handlers.list_programmes(uow)["items"] == [prog] == [single]
    with pytest.raises(NotFound):
        handlers.get_programme(uow, "nope")


def test_a_grant_commits_its_total_and_announces_its_tranches(uow):
    prog, grant = granted(uow)
    assert grant["total_cents"] == 150_000
    assert handlers.get_programme(uow, prog["id"])["available_cents"] == 850_000
    [event] = [e for e in uow.outbox.events if e.event_type == "funding.grant_awarded"]
    assert [t["tranche_id"] for t in event.payload["tranches"]] == [t["id"] for t in grant["tranches"]]


def test_a_grant_beyond_the_remaining_budget_is_refused(uow):
    follow(uow, "s1", "active", 2)
    prog = programme(uow, budget=100_000)
    with pytest.raises(Conflict) as err:
        handlers.award_grant(uow, commands.AwardGrant(prog["id"], "s1", TRANCHES, "fo/x"))
    assert err.value.code == "over_budget" and uow.outbox.types() == ["funding.programme_opened"]


def test_a_grant_for_a_service_not_known_yet_waits_then_answers_retry_later(uow):
    prog = programme(uow)
    with pytest.raises(NotYetKnown) as err:
        handlers.award_grant(uow, commands.AwardGrant(prog["id"], "s-new", TRANCHES, "fo/x"), wait_seconds=0.05)
    assert err.value.code == "service_not_active" and err.value.retry_after == 1


def test_a_grant_for_a_suspended_service_is_refused(uow):
    follow(uow, "s1", "suspended", 3)
    with pytest.raises(Conflict) as err:
        handlers.award_grant(uow, commands.AwardGrant(programme(uow)["id"], "s1", TRANCHES, "fo/x"))
    assert err.value.code == "service_not_active" and not isinstance(err.value, NotYetKnown)


def test_releasing_a_tranche_sends_one_payment_order_recorded_with_its_event(uow):
    _, grant = granted(uow)
    tranche_id = grant["tranches"][0]["id"]
    view = handlers.release_tranche(uow, commands.ReleaseTranche(tranche_id, "fo/x"))
    assert view["status"] == "released" and view["released_by"] == "fo/x"
    [order] = [e for e in uow.outbox.events if e.event_type == "funding.tranche_released"]
    assert uow.funding.payment_orders[tranche_id][0] == order.event_id
    with pytest.raises(Conflict) as err:
        handlers.release_tranche(uow, commands.ReleaseTranche(tranche_id, "fo/x"))
    assert err.value.code == "already_released"
    with pytest.raises(NotFound):
        handlers.release_tranche(uow, commands.ReleaseTranche("nope", "fo/x"))


def test_suspension_freezes_the_scheduled_tranches_and_reinstatement_unfreezes_them(uow):
    _, grant = granted(uow)
    follow(uow, "s1", "suspended", 3)
    assert handlers.service_funding(uow, "s1")["frozen"]
    with pytest.raises(Conflict) as err:
        handlers.release_tranche(uow, commands.ReleaseTranche(grant["tranches"][0]["id"], "fo/x"))
    assert err.value.code == "funding_frozen"
    follow(uow, "s1", "active", 4)
    assert uow.outbox.types()[-2:] == ["funding.funding_frozen", "funding.funding_unfrozen"]
    assert uow.outbox.events[-1].payload["tranche_ids"] == [t["id"] for t in grant["tranches"]]


def test_an_expired_pact_freezes_the_tranches_and_an_amendment_renewing_it_unfreezes_them(uow):
    _, grant = granted(uow)
    follow_as(uow, "registry.service_expired", "s1", "expired", 3)
    funding = handlers.service_funding(uow, "s1")
    assert (funding["status"], funding["frozen"]) == ("expired", True)
    with pytest.raises(Conflict) as err:
        handlers.release_tranche(uow, commands.ReleaseTranche(grant["tranches"][0]["id"], "fo/x"))
    assert err.value.code == "funding_frozen"
    follow_as(uow, "registry.pact_amended", "s1", "active", 4)
    assert uow.outbox.types()[-2:] == ["funding.funding_frozen", "funding.funding_unfrozen"]
    assert not handlers.service_funding(uow, "s1")["frozen"]


def test_a_renewal_while_a_violation_is_open_keeps_the_funding_frozen_without_a_second_freeze(uow):
    granted(uow)
    follow_as(uow, "registry.service_expired", "s1", "expired", 3)
    follow_as(uow, "registry.pact_amended", "s1", "suspended", 4)
    assert handlers.service_funding(uow, "s1")["frozen"]
    assert uow.outbox.types().count("funding.funding_frozen") == 1
    assert "funding.funding_unfrozen" not in uow.outbox.types()


def test_revocation_cancels_what_was_not_released_and_a_stale_standing_is_ignored(uow):
    granted(uow)
    follow(uow, "s1", "revoked", 5)
    follow(uow, "s1", "active", 4)  # arrives late: older
    funding = handlers.service_funding(uow, "s1")
    assert funding["status"] == "revoked"
    assert {t["status"] for t in funding["grants"][0]["tranches"]} == {"cancelled"}


def test_the_funding_of_a_service_never_heard_of_is_empty_not_an_error(uow):
    assert handlers.service_funding(uow, "nobody") == {"service_id": "nobody", "frozen": False, "status": "unknown", "grants": []}


def test_standings_count_each_account_s_tranches_by_status(uow):
    granted(uow)
    follow(uow, "s1", "suspended", 3)
    assert handlers.standings(uow, "", 10) == [
        {"service_id": "s1", "status": "suspended", "version": 3, "frozen": True, "tranches": {"frozen": 2}}
    ]


def test_standings_show_an_expired_service_s_funding_frozen(uow):
    granted(uow)
    follow_as(uow, "registry.service_expired", "s1", "expired", 3)
    assert [(s["status"], s["frozen"]) for s in handlers.standings(uow, "", 10)] == [("expired", True)]
