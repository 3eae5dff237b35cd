"""Funding rules, with nothing running."""

from datetime import date, datetime
from itertools import count

import pytest

from spc.services.funding.domain.model import FundingAccount, Programme
from spc.shared.core.errors import Conflict, InvalidRequest, NotFound, NotYetKnown
from spc.shared.web.http import http_status

ids = (f"t{i}" for i in count())
NOW = datetime(2026, 2, 1, 10, 0)  # after every due date below


def account(status="active", version=2):
    acc = FundingAccount("s1")
    acc.apply_standing(status, version)
    acc.pull_events()
    return acc


def awarded(amounts=(100, 200, 300), budget=10_000):
    acc, prog = account(), Programme("p1", "P", budget)
    grant = acc.award("g1", prog, [{"amount_cents": a, "due_date": date(2026, 1, 1)} for a in amounts], lambda: next(ids))
    acc.pull_events()
    return acc, prog, grant


def test_a_grant_commits_the_programme_budget():
    _, prog, grant = awarded()
    assert grant.total_cents == 600 and prog.available_cents == 9_400


def test_a_grant_over_the_remaining_budget_is_refused():
    acc, prog = account(), Programme("p1", "P", 500)
    with pytest.raises(Conflict) as err:
        acc.award("g1", prog, [{"amount_cents": 300, "due_date": date(2026, 1, 1)}] * 2, lambda: next(ids))
    assert err.value.code == "over_budget" and prog.committed_cents == 0


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True])
def test_tranche_amounts_are_positive_integer_cents(amount):
    acc, prog = account(), Programme("p1", "P", 1000)
    with pytest.raises(InvalidRequest):
        acc.award("g1", prog, [{"amount_cents": amount, "due_date": date(2026, 1, 1)}], lambda: next(ids))


@pytest.mark.parametrize("status", ["submitted", "suspended", "expired", "revoked", "unknown"])
def test_only_an_active_service_gets_a_grant(status):
    acc = FundingAccount("s1") if status == "unknown" else account(status)
    with pytest.raises(Conflict) as err:
        acc.award("g1", Programme("p1", "P", 1000), [{"amount_cents": 1, "due_date": date(2026, 1, 1)}], lambda: next(ids))
    assert err.value.code == "service_not_active"


@pytest.mark.parametrize("status", ["unknown", "submitted"])
def test_a_service_funding_has_not_seen_approved_yet_gets_a_retryable_answer(status):
    acc = FundingAccount("s1") if status == "unknown" else account(status)
    with pytest.raises(NotYetKnown) as err:
        acc.award("g1", Programme("p1", "P", 1000), [{"amount_cents": 1, "due_date": date(2026, 1, 1)}], lambda: next(ids))
    assert (http_status(type(err.value)), err.value.code, err.value.retry_after) == (409, "service_not_active", 1)


def test_a_tranche_is_released_once_and_emits_one_payment_order():
    acc, _, grant = awarded()
    tranche = grant.tranches[0]
    acc.release(tranche.id, "officer", NOW)
    assert [e.event_type for e in acc.pull_events()] == ["funding.tranche_released"]
    with pytest.raises(Conflict) as err:
        acc.release(tranche.id, "officer", NOW)
    assert err.value.code == "already_released" and acc.pull_events() == []


def test_a_recorded_event_has_its_id_before_it_is_collected():
    """The payment order is kept with its event's id in the same transaction: the id is the
    event's from the moment it is recorded, read without collecting (pending_id)."""
    acc, _, grant = awarded()
    acc.release(grant.tranches[0].id, "officer", NOW)
    order_id = acc.pending_id("funding.tranche_released")
    assert order_id and acc.pending_id("funding.funding_frozen") is None
    [(event_id, event)] = acc.pull_recorded()
    assert (event_id, event.event_type) == (order_id, "funding.tranche_released")
    assert acc.pending_id("funding.tranche_released") is None


@pytest.mark.parametrize("status", ["suspended", "expired"])
def test_suspension_or_expiry_freezes_every_unreleased_tranche_and_release_is_refused(status):
    acc, _, grant = awarded()
    acc.release(grant.tranches[0].id, "officer", NOW)
    acc.apply_standing(status, 3)
    assert acc.frozen and [t.status for t in grant.tranches] == ["released", "frozen", "frozen"]
    with pytest.raises(Conflict) as err:
        acc.release(grant.tranches[1].id, "officer", NOW)
    assert (http_status(type(err.value)), err.value.code) == (409, "funding_frozen")


@pytest.mark.parametrize("status", ["suspended", "expired"])
def test_reinstatement_or_renewal_returns_frozen_tranches_to_scheduled(status):
    acc, _, grant = awarded()
    acc.apply_standing(status, 3)
    acc.apply_standing("active", 4)
    assert not acc.frozen and [t.status for t in grant.tranches] == ["scheduled"] * 3
    assert [e.event_type for e in acc.pull_events()] == ["funding.funding_frozen", "funding.funding_unfrozen"]


def test_a_renewal_with_open_violations_keeps_the_tranches_frozen_and_freezes_them_once():
    acc, _, grant = awarded()
    acc.apply_standing("expired", 3)
    acc.apply_standing("suspended", 4)  # the term renewed, but a violation is still open
    assert acc.frozen and {t.status for t in grant.tranches} == {"frozen"}
    assert [e.event_type for e in acc.pull_events()] == ["funding.funding_frozen"]
    with pytest.raises(Conflict):
        acc.release(grant.tranches[0].id, "officer", NOW)
    acc.apply_standing("active", 5)
    assert [(e.event_type, e.tranche_ids) for e in acc.pull_events()] == [
        ("funding.funding_unfrozen", [t.id for t in grant.tranches])
    ]


def test_a_suspended_service_whose_term_ends_stays_frozen_without_a_second_freeze():
    acc, _, grant = awarded()
    acc.apply_standing("suspended", 3)
    acc.apply_standing("expired", 4)
    assert acc.frozen and {t.status for t in grant.tranches} == {"frozen"}
    assert [e.event_type for e in acc.pull_events()] == ["funding.funding_frozen"]


def test_a_stale_standing_never_undoes_a_newer_one():
    acc, _, grant = awarded()
    acc.apply_standing("suspended", 5)
    assert not acc.apply_standing("active", 4)
    assert acc.frozen and {t.status for t in grant.tranches} == {"frozen"}


@pytest.mark.parametrize("before", [None, "suspended", "expired"])
def test_revocation_cancels_unreleased_tranches(before):
    acc, _, grant = awarded()
    acc.release(grant.tranches[0].id, "officer", NOW)
    if before:
        acc.apply_standing(before, 3)
    acc.apply_standing("revoked", 4)
    assert [t.status for t in grant.tranches] == ["released", "cancelled", "cancelled"]


# -- found by the mutation run (docs/mutation.md): each guard on its edge --------------------------


def read_back(text):
    """A string equal to `text` but not the same object, as a value read from the database is."""
    return "".join(list(text))


def test_a_release_names_the_tranche_whatever_the_order_of_ids():
    acc, prog = account(), Programme("p1", "P", 1000)
    new_ids = iter(["b", "a"])
    acc.award("g1", prog, [{"amount_cents": 1, "due_date": date(2026, 1, 1)}] * 2, lambda: next(new_ids))
    acc.release(read_back("a"), "officer", NOW)
    assert [(t.id, t.status) for t in acc.tranches] == [("b", "scheduled"), ("a", "released")]
    with pytest.raises(NotFound):
        acc.release("c", "officer", NOW)


def test_the_guards_hold_on_statuses_read_back_from_the_database():
    acc, _, grant = awarded()
    first, second, third = grant.tranches
    first.status, second.status, third.status = read_back("released"), read_back("frozen"), read_back("cancelled")
    for tranche, code in ((first, "already_released"), (second, "funding_frozen"), (third, "tranche_cancelled")):
        with pytest.raises(Conflict) as err:
            acc.release(tranche.id, "officer", NOW)
        assert err.value.code == code
    assert acc.pull_events() == []


def test_a_cancelled_tranche_is_refused_as_cancelled():
    acc, _, grant = awarded()
    acc.apply_standing("revoked", 3)
    with pytest.raises(Conflict) as err:
        acc.release(grant.tranches[0].id, "officer", NOW)
    assert err.value.code == "tranche_cancelled"


@pytest.mark.parametrize("account_frozen,tranche_frozen", [(True, False), (False, True)])
def test_either_sign_of_a_freeze_refuses_a_release(account_frozen, tranche_frozen):
    """The account's standing and the tranche's status are each enough (belt and braces: they
    are stored apart)."""
    acc, _, grant = awarded()
    if account_frozen:
        acc.status = "suspended"
    if tranche_frozen:
        grant.tranches[0].status = "frozen"
    with pytest.raises(Conflict) as err:
        acc.release(grant.tranches[0].id, "officer", NOW)
    assert err.value.code == "funding_frozen" and grant.tranches[0].status != "released"


@pytest.mark.parametrize(
    "today,reason,ok",
    [
        (date(2026, 1, 1), None, True),  # on its due date: no reason needed
        (date(2026, 1, 2), None, True),
        (date(2025, 12, 31), None, False),  # a day early: a reason is needed
        (date(2025, 12, 31), "   ", False),  # and blank is none
        (date(2025, 12, 31), "works started", True),
    ],
)
def test_a_tranche_is_released_early_only_with_a_stated_reason(today, reason, ok):
    acc, _, grant = awarded()
    tranche, now = grant.tranches[0], datetime.combine(today, datetime.min.time())
    if ok:
        acc.release(tranche.id, "officer", now, reason=reason)
        assert tranche.status == "released" and tranche.release_reason == reason
    else:
        with pytest.raises(Conflict) as err:
            acc.release(tranche.id, "officer", now, reason=reason)
        assert err.value.code == "release_before_due_date" and tranche.status == "scheduled"


def test_a_grant_may_take_exactly_what_is_left_and_one_cent_more_is_refused():
    acc, prog = account(), Programme("p1", "P", 1000)
    acc.award("g1", prog, [{"amount_cents": 999, "due_date": date(2026, 1, 1)}], lambda: next(ids))
    acc.award("g2", prog, [{"amount_cents": 1, "due_date": date(2026, 1, 1)}], lambda: next(ids))  # a cent is a tranche
    assert prog.available_cents == 0
    with pytest.raises(Conflict):
        acc.award("g3", prog, [{"amount_cents": 1, "due_date": date(2026, 1, 1)}], lambda: next(ids))


@pytest.mark.parametrize("budget", [0, -1, True, 1.0, "100"])
def test_a_budget_is_a_positive_integer(budget):
    with pytest.raises(InvalidRequest):
        Programme("p1", "P", budget)
    assert Programme("p1", "P", 1).available_cents == 1


@pytest.mark.parametrize("amount", [0, -1, 601])
def test_a_programme_gives_back_only_what_it_committed(amount):
    _, prog, _ = awarded()
    with pytest.raises(ValueError):
        prog.give_back(amount)
    prog.give_back(1)
    prog.give_back(599)  # the whole of what is left committed
    assert prog.committed_cents == 0


def test_a_revocation_gives_each_programme_back_the_sum_of_its_cancelled_tranches():
    acc, prog = account(), Programme("p1", "P", 10_000)
    other = Programme("p2", "Q", 10_000)
    acc.award("g1", prog, [{"amount_cents": a, "due_date": date(2026, 1, 1)} for a in (200, 300, 7)], lambda: next(ids))
    acc.award("g2", other, [{"amount_cents": 50, "due_date": date(2026, 1, 1)}], lambda: next(ids))
    acc.release(acc.tranches[2].id, "officer", NOW)  # released: never given back
    acc.apply_standing("revoked", 3)
    assert acc.pull_returns() == {"p1": 500, "p2": 50}
    assert acc.pull_returns() == {}  # handed over once


def test_a_new_account_takes_the_first_standing_and_ignores_a_replay_of_the_same_version():
    acc = FundingAccount("s1")
    assert acc.apply_standing("active", 1) is True and acc.status == "active"
    assert acc.apply_standing("suspended", 1) is False and acc.status == "active"


def test_a_change_of_status_keeps_when_and_why_and_a_newer_same_status_does_not_move_them():
    acc = FundingAccount("s1")
    at = datetime(2026, 3, 1, 9, 0)
    acc.apply_standing("active", 2, reason="approved", at=at)
    acc.apply_standing("active", 3, reason="pact amended", at=datetime(2026, 4, 1))
    assert (acc.status_since, acc.status_reason) == (at, "approved")
    acc.apply_standing(read_back("active"), 4, reason="again", at=datetime(2026, 5, 1))
    assert (acc.status_since, acc.status_reason) == (at, "approved")
    acc.apply_standing("suspended", 5, reason="a violation is open", at=datetime(2026, 6, 1))
    assert (acc.status_since, acc.status_reason) == (datetime(2026, 6, 1), "a violation is open")
    acc.apply_standing("expired", 6, reason="term ended", at=datetime(2026, 7, 1))
    assert (acc.status_since, acc.status_reason) == (datetime(2026, 7, 1), "term ended")


def test_a_programme_names_its_funder_only_when_it_has_one():
    assert Programme("p1", "P", 1).funder is None
    from spc.services.funding.domain.funder import Funder

    funder = Funder("Ministère", "110000015", None)
    assert Programme("p1", "P", 1, funder=funder).funder == funder
