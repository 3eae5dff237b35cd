"""Two people for money (services/funding/domain/approvals.py), on the in-memory unit of work:
above SPC_DUAL_CONTROL_CENTS a release, a grant's revocation or a budget raise is requested by
one funding officer and carried out only when another person approves it."""

from datetime import datetime, timedelta

import pytest

from spc.services.funding import handlers
from spc.services.funding.domain import commands
from spc.services.funding.domain.approvals import DualControl
from spc.shared.web.auth import Actor
from spc.shared.core.errors import DomainError
from tests.unit.fakes import FakeFundingUnitOfWork
from tests.unit.test_funding_handlers import follow, granted

DUAL = DualControl(threshold_cents=60_000, expiry_seconds=3600)  # the 100,000 tranche needs two, the 50,000 not
NOW = datetime(2026, 7, 1, 9, 0)  # both tranches are due
ALICE, BOB = "funding_officer/alice", "funding_officer/bob"


@pytest.fixture
def uow():
    return FakeFundingUnitOfWork()


def ask(uow, action, target_id, by=ALICE, person="alice", reason="Jalon atteint", now=NOW, **kw):
    return handlers.request_approval(uow, commands.RequestApproval(action, target_id, by, person, reason, **kw), DUAL, now=now)


def decide(uow, approval_id, by=BOB, person="bob", now=NOW):
    return handlers.approve(uow, commands.DecideApproval(approval_id, by, person), now=now)


def refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as err:
        call(*args, **kwargs)
    assert err.value.code == code, err.value.message
    return err.value


def payload(uow, event_type):
    [event] = [e for e in uow.outbox.events if e.event_type == event_type]
    return event.payload


def test_the_threshold_is_strict_zero_means_every_amount_and_unset_means_none():
    assert not DUAL.required(60_000) and DUAL.required(60_001)
    assert DualControl(0).required(1) and not DualControl(None).required(10**15)


def test_one_person_releases_below_the_amount_and_is_sent_to_request_above_it(uow):
    _, grant = granted(uow)
    big, small = grant["tranches"]
    err = refused(
        "dual_control_required", handlers.release_tranche, uow, commands.ReleaseTranche(big["id"], ALICE), DUAL, now=NOW
    )
    assert err.details == {"amount_cents": 100_000, "threshold_cents": 60_000}
    assert "funding.tranche_released" not in uow.outbox.types()
    released = handlers.release_tranche(uow, commands.ReleaseTranche(small["id"], ALICE), DUAL, now=NOW)
    assert (released["status"], released["released_by"], released["approved_by"]) == ("released", ALICE, None)


def test_a_release_requested_by_one_person_is_paid_once_another_approves_it(uow):
    _, grant = granted(uow)
    big = grant["tranches"][0]["id"]
    request = ask(uow, "release", big, evidence="PV-CA-2026-06")
    assert (request["status"], request["amount_cents"], request["target"]) == ("pending", 100_000, "tranche")
    assert request["expires_at"] == "2026-07-01T10:00:00+00:00"
    assert payload(uow, "funding.release_requested")["requested_by"] == ALICE
    # the requester, under her own token or another of hers, may not approve it
    refused("same_approver", decide, uow, request["id"], by=ALICE, person="alice")
    refused("same_approver", decide, uow, request["id"], by="funding_officer/alice-laptop alice@idp", person="alice")
    assert uow.funding.payment_orders == {}
    approved = decide(uow, request["id"])
    assert (approved["status"], approved["decided_by"]) == ("approved", BOB)
    order = payload(uow, "funding.tranche_released")
    assert (order["released_by"], order["approved_by"], order["evidence"], order["reason"]) == (
        ALICE,
        BOB,
        "PV-CA-2026-06",
        "Jalon atteint",
    )
    assert list(uow.funding.payment_orders) == [big]
    refused("approval_not_pending", decide, uow, request["id"], by="funding_officer/carol", person="carol")
    assert len([t for t in uow.outbox.types() if t == "funding.tranche_released"]) == 1


def test_the_person_is_the_oidc_subject_whatever_the_token_else_the_label():
    assert Actor("funding_officer", "laptop", "u-42@https://idp.example").person == "u-42@https://idp.example"
    assert Actor("funding_officer", "alice").person == Actor("auditor", "alice").person == "alice"


def test_a_request_is_checked_as_it_would_be_carried_out_and_is_pending_once_per_target(uow):
    prog, grant = granted(uow)
    big = grant["tranches"][0]["id"]
    refused("budget_not_raised", ask, uow, "budget_raise", prog["id"], budget_cents=1_000_000)  # not a raise
    refused("not_found", ask, uow, "release", "nope")
    first = ask(uow, "release", big)
    err = refused("approval_pending", ask, uow, "release", big, by=BOB, person="bob")
    assert err.details == {"approval_id": first["id"]}


def test_an_unanswered_request_expires_and_a_new_one_may_be_made(uow):
    _, grant = granted(uow)
    big = grant["tranches"][0]["id"]
    request = ask(uow, "release", big)
    later = NOW + timedelta(hours=2)
    refused("approval_expired", decide, uow, request["id"], now=later)
    assert handlers.expire_approvals(uow, now=later) == 1
    assert payload(uow, "funding.release_expired")["status"] == "expired"
    assert handlers.expire_approvals(uow, now=later) == 0  # once
    again = ask(uow, "release", big, now=later)  # an expired request no longer holds the tranche
    assert decide(uow, again["id"], now=later)["status"] == "approved"


def test_a_suspension_between_request_and_approval_turns_the_request_down(uow):
    _, grant = granted(uow)
    request = ask(uow, "release", grant["tranches"][0]["id"])
    follow(uow, "s1", "suspended", 3)
    voided = handlers.get_approval(uow, request["id"])
    assert (voided["status"], voided["decided_by"]) == ("rejected", "spc/funding")
    assert "suspended" in voided["decision_reason"]
    refused("approval_not_pending", decide, uow, request["id"])
    follow(uow, "s1", "active", 4)  # reinstated: the old request stays turned down
    refused("approval_not_pending", decide, uow, request["id"])
    assert uow.funding.payment_orders == {}


def test_a_release_frozen_since_its_request_fails_to_approve_and_nothing_is_paid(uow):
    """Even if the voiding had not run (a request made while the freeze was on its way), the
    approval itself refuses a frozen tranche."""
    _, grant = granted(uow)
    request = ask(uow, "release", grant["tranches"][0]["id"])
    uow.funding.accounts["s1"].status = "suspended"  # the freeze, as the approval finds it
    refused("funding_frozen", decide, uow, request["id"])
    assert uow.funding.payment_orders == {}


def test_a_grant_revocation_above_the_amount_takes_two_and_gives_the_budget_back(uow):
    prog, grant = granted(uow)
    small = grant["tranches"][1]["id"]
    handlers.release_tranche(uow, commands.ReleaseTranche(small, ALICE), DUAL, now=NOW)
    refused("dual_control_required", handlers.revoke_grant, uow, commands.RevokeGrant(grant["id"], ALICE, "fermée"), DUAL)
    request = ask(uow, "grant_revocation", grant["id"], reason="La crèche a fermé")
    assert request["amount_cents"] == 100_000  # what it still had to pay
    decide(uow, request["id"])
    revoked = payload(uow, "funding.grant_revoked")
    assert (revoked["revoked_by"], revoked["approved_by"], revoked["cancelled_cents"]) == (ALICE, BOB, 100_000)
    assert handlers.get_programme(uow, prog["id"])["available_cents"] == 1_000_000 - 50_000
    statuses = [t["status"] for g in handlers.service_funding(uow, "s1")["grants"] for t in g["tranches"]]
    assert sorted(statuses) == ["cancelled", "released"]
    refused("nothing_to_revoke", ask, uow, "grant_revocation", grant["id"])


def test_a_budget_raise_above_the_amount_takes_two(uow):
    prog, _ = granted(uow)
    refused(
        "dual_control_required", handlers.raise_budget, uow, commands.RaiseBudget(prog["id"], 1_100_000, ALICE, "DM n° 2"), DUAL
    )
    assert (
        handlers.raise_budget(uow, commands.RaiseBudget(prog["id"], 1_050_000, ALICE, "DM n° 1"), DUAL)["budget_cents"]
        == 1_050_000
    )  # a raise of 50,000: one person
    request = ask(uow, "budget_raise", prog["id"], budget_cents=1_150_000, reason="DM n° 2")
    assert (request["amount_cents"], request["budget_cents"], request["service_id"]) == (100_000, 1_150_000, None)
    decide(uow, request["id"])
    raised = [e.payload for e in uow.outbox.events if e.event_type == "funding.budget_raised"]
    assert [(r["from_cents"], r["to_cents"], r["approved_by"]) for r in raised] == [
        (1_000_000, 1_050_000, None),
        (1_050_000, 1_150_000, BOB),
    ]


def test_a_rejection_answers_the_request_once_with_its_reason(uow):
    _, grant = granted(uow)
    request = ask(uow, "release", grant["tranches"][0]["id"])
    rejected = handlers.reject(uow, commands.DecideApproval(request["id"], BOB, "bob", "PV non signé"), now=NOW)
    assert (rejected["status"], rejected["decision_reason"]) == ("rejected", "PV non signé")
    assert payload(uow, "funding.release_rejected")["decided_by"] == BOB
    refused("approval_not_pending", decide, uow, request["id"])
    assert [r["id"] for r in handlers.list_approvals(uow, "rejected")["items"]] == [request["id"]]
    assert handlers.list_approvals(uow, "pending")["items"] == []


# -- the domain's rules, one by one (each kills a mutant: tests/mutation) ---------------------------
def _request(requester="alice", now=NOW, expiry=3600):
    from spc.services.funding.domain.approvals import ApprovalRequest

    return ApprovalRequest.open(
        "a-1", "release", "t-1", "p-1", "s1", 100, f"funding_officer/{requester}", requester, now, expiry, "Jalon atteint"
    )


def test_a_request_waits_a_week_by_default_and_the_policy_cannot_be_changed_in_flight():
    from dataclasses import FrozenInstanceError

    assert DualControl().expiry_seconds == timedelta(days=7).total_seconds()
    with pytest.raises(FrozenInstanceError):
        DUAL.threshold_cents = 0


def test_a_request_expires_at_its_time_exactly_and_only_while_pending():
    at = NOW + timedelta(seconds=3600)
    assert not _request().expired(at - timedelta(microseconds=1)) and _request().expired(at)
    approved, rejected = _request(), _request()
    approved.approve("funding_officer/bob", "bob", NOW)
    rejected.reject("funding_officer/bob", NOW, "non")
    assert not approved.expired(at) and not rejected.expired(at)
    assert not approved.expire(at) and approved.status == "approved"


def test_the_same_person_is_refused_whatever_string_names_her_and_anyone_else_approves():
    request = _request(requester="bob")
    with pytest.raises(DomainError) as err:
        request.approve("funding_officer/bob-2", "".join(["b", "o", "b"]), NOW)  # equal, not the same object
    assert err.value.code == "same_approver"
    request.approve("funding_officer/alice", "alice", NOW)  # "alice" sorts before "bob": still another person
    assert (request.status, request.decided_by) == ("approved", "funding_officer/alice")


def test_funding_voids_only_a_pending_request():
    pending, approved, rejected = _request(), _request(), _request()
    approved.approve("funding_officer/bob", "bob", NOW)
    rejected.reject("funding_officer/bob", NOW, "non")
    assert pending.void(NOW, "suspendu") is True and (pending.status, pending.decided_by) == ("rejected", "spc/funding")
    assert approved.void(NOW, "suspendu") is False and (approved.status, approved.decided_by) == (
        "approved",
        "funding_officer/bob",
    )
    assert rejected.void(NOW, "suspendu") is False and (rejected.decided_by, rejected.decision_reason) == (
        "funding_officer/bob",
        "non",
    )


def test_a_grant_is_found_by_its_own_id_whatever_the_order():
    from spc.services.funding.domain.model import FundingAccount, Grant, Tranche
    from datetime import date

    def account(order):
        acc = FundingAccount("s1", "active", 2)
        acc.grants = [Grant(g, "p-1", "s1", [Tranche(f"t-{g}", g, "s1", 100, date(2027, 1, 1))]) for g in order]
        return acc

    for order, target in ((["g-1", "g-2"], "g-2"), (["g-2", "g-1"], "g-1")):
        acc = account(order)
        acc.revoke_grant("".join(target), "fo/x", "fermé")
        assert {g.id: g.tranches[0].status for g in acc.grants} == {
            target: "cancelled",
            **{g: "scheduled" for g in order if g != target},
        }


def test_a_budget_is_only_raised_by_whole_cents_above_it():
    from spc.services.funding.domain.model import Programme

    programme = Programme("p-1", "P", 1_000_000)
    assert programme.raise_of(2_500_000) == 1_500_000
    for refused_amount in (1_000_000, 999_999, True, 2_500_000.0):
        with pytest.raises(DomainError) as err:
            programme.raise_of(refused_amount)
        assert err.value.code == "budget_not_raised"


def test_a_status_read_back_from_the_database_is_compared_by_value():
    """A driver gives back a new string, not the module's constant: `is` would never match it."""
    at = NOW + timedelta(seconds=3600)
    for check in ("expired", "void", "approve"):
        request = _request()
        request.status = "".join(["pend", "ing"])
        if check == "expired":
            assert request.expired(at)
        elif check == "void":
            assert request.void(NOW, "suspendu") and request.status == "rejected"
        else:
            request.approve("funding_officer/bob", "bob", NOW)
            assert request.status == "approved"
