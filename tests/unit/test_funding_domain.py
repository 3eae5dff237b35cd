"""Funding rules, with nothing running."""
from datetime import date, datetime
from itertools import count

import pytest

from spc.services.funding.domain.model import FundingAccount, Programme
from spc.shared.errors import Conflict, InvalidRequest, NotYetKnown
from spc.shared.http import http_status

ids = (f"t{i}" for i in count())
NOW = datetime(2026, 2, 1, 10, 0)  # after every due date below


def account(status="active", version=2):
    acc = FundingAccount("s1")
    acc.apply_standing(status, version)
    acc.pull_events()
    return acc


def awarded(amounts=(100, 200, 300), budget=10_000):
    acc, prog = account(), Programme("p1", "P", budget)
    grant = acc.award("g1", prog, [{"amount_cents": a, "due_date": date(2026, 1, 1)} for a in amounts],
                      lambda: next(ids))
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
        acc.award("g1", Programme("p1", "P", 1000), [{"amount_cents": 1, "due_date": date(2026, 1, 1)}],
                  lambda: next(ids))
    assert err.value.code == "service_not_active"


@pytest.mark.parametrize("status", ["unknown", "submitted"])
def test_a_service_funding_has_not_seen_approved_yet_gets_a_retryable_answer(status):
    acc = FundingAccount("s1") if status == "unknown" else account(status)
    with pytest.raises(NotYetKnown) as err:
        acc.award("g1", Programme("p1", "P", 1000),
                                   [{"amount_cents": 1, "due_date": date(2026, 1, 1)}], lambda: next(ids))
    assert (http_status(type(err.value)), err.value.code, err.value.retry_after) == (409, "service_not_active", 1)


def test_a_tranche_is_released_once_and_emits_one_payment_order():
    acc, _, grant = awarded()
    tranche = grant.tranches[0]
    acc.release(tranche.id, "officer", NOW)
    assert [e.event_type for e in acc.pull_events()] == ["funding.tranche_released"]
    with pytest.raises(Conflict) as err:
        acc.release(tranche.id, "officer", NOW)
    assert err.value.code == "already_released" and acc.pull_events() == []


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
        ("funding.funding_unfrozen", [t.id for t in grant.tranches])]


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
