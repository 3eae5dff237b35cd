"""Two people for money: the rule of separating who orders a payment from who approves it.

Above a configured amount (`DualControl.threshold_cents`: 0 puts every amount under it, None
turns it off), a change to public money is *requested* by one funding officer and carried out
only once *another* person approves it:
- a tranche's release (the payment order), the amount being the tranche's;
- a grant's revocation, the amount being what it still had to pay (scheduled and frozen);
- a programme's budget raised, the amount being the raise.

A request states its reason (and, for a release, its evidence), and expires unanswered after
`expiry_seconds`. It is answered once: approved by someone other than its requester (the same
person under another token is still the same person: `Actor.person`), or rejected by anyone with
the role, or rejected by funding itself when the service is suspended, its pact expired or it
was revoked before the approval (the evidence it rests on is no longer what was checked).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# Optional[X], not X | None: the mutation run (tests/mutation) would mutate the `|`, in annotations too
from typing import Any, Optional

from spc.shared.core.clock import to_wire
from spc.shared.core.domain import Aggregate

from ..exceptions import ApprovalExpired, ApprovalNotPending, SameApprover
from . import events

PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"
APPROVAL_STATUSES = (PENDING, APPROVED, REJECTED, EXPIRED)
RELEASE, REVOCATION, BUDGET_RAISE = "release", "grant_revocation", "budget_raise"
ACTIONS = (RELEASE, REVOCATION, BUDGET_RAISE)
TARGETS = {RELEASE: "tranche", REVOCATION: "grant", BUDGET_RAISE: "programme"}
FUNDING = "spc/funding"  # who rejects a request the service's standing voided
WEEK = 7 * 24 * 3600


@dataclass(frozen=True)
class DualControl:
    """The policy: which amounts need two people, and how long a request waits for the second."""

    threshold_cents: Optional[int] = None  # None: off; 0: every amount
    expiry_seconds: float = WEEK

    def required(self, amount_cents: int) -> bool:
        return self.threshold_cents is not None and amount_cents > self.threshold_cents

    def details(self, amount_cents: int) -> dict[str, Any]:
        return {"amount_cents": amount_cents, "threshold_cents": self.threshold_cents}


class ApprovalRequest(Aggregate):
    """One change of money waiting for a second person. `target_id`: the tranche, the grant or
    the programme (TARGETS); `service_id`: the service it concerns (None for a budget);
    `budget_cents`: the new budget a raise asks for."""

    @classmethod
    def open(
        cls,
        id: str,
        action: str,
        target_id: str,
        programme_id: str,
        service_id: Optional[str],
        amount_cents: int,
        requested_by: str,
        requester: str,
        now: datetime,
        expiry_seconds: float,
        reason: str,
        evidence: Optional[str] = None,
        budget_cents: Optional[int] = None,
    ) -> "ApprovalRequest":
        request = cls(
            id,
            action,
            target_id,
            programme_id,
            service_id,
            amount_cents,
            requested_by,
            requester,
            now,
            now + timedelta(seconds=expiry_seconds),
            reason,
            evidence,
            budget_cents,
        )
        request._changed("requested")
        return request

    def __init__(
        self,
        id: str,
        action: str,
        target_id: str,
        programme_id: str,
        service_id: Optional[str],
        amount_cents: int,
        requested_by: str,
        requester: str,
        requested_at: datetime,
        expires_at: datetime,
        reason: str,
        evidence: Optional[str] = None,
        budget_cents: Optional[int] = None,
    ) -> None:
        self.id, self.action, self.target_id = id, action, target_id
        self.programme_id, self.service_id, self.amount_cents = programme_id, service_id, amount_cents
        self.requested_by, self.requester, self.requested_at = requested_by, requester, requested_at
        self.expires_at, self.reason, self.evidence, self.budget_cents = expires_at, reason, evidence, budget_cents
        self.status = PENDING
        self.decided_by: Optional[str] = None
        self.decided_at: Optional[datetime] = None
        self.decision_reason: Optional[str] = None

    def expired(self, now: datetime) -> bool:
        return self.status == PENDING and now >= self.expires_at

    def approve(self, actor: str, person: str, now: datetime) -> None:
        """By someone else than the requester, while pending and not expired."""
        self._still_open(now)
        if person == self.requester:
            raise SameApprover(
                "the approval must come from another person than the request's",
                {"approval_id": self.id, "requested_by": self.requested_by},
            )
        self._decide(APPROVED, actor, now, None)

    def reject(self, actor: str, now: datetime, reason: Optional[str]) -> None:
        self._still_open(now)
        self._decide(REJECTED, actor, now, reason)

    def void(self, now: datetime, reason: str) -> bool:
        """Funding's own rejection: what the request rests on changed (a suspension, an expiry of
        the pact, a revocation). Returns whether it was still pending."""
        if self.status != PENDING:
            return False
        self._decide(REJECTED, FUNDING, now, reason)
        return True

    def expire(self, now: datetime) -> bool:
        """Past its time unanswered: expired (returns whether it was)."""
        if not self.expired(now):
            return False
        self._decide(EXPIRED, None, now, None)
        return True

    def _still_open(self, now: datetime) -> None:
        if self.status != PENDING:
            raise ApprovalNotPending(f"the request was {self.status} already", {"approval_id": self.id, "status": self.status})
        if self.expired(now):
            raise ApprovalExpired(
                f"the request expired at {to_wire(self.expires_at)}",
                {"approval_id": self.id, "expires_at": to_wire(self.expires_at)},
            )

    def _decide(self, status: str, actor: Optional[str], now: datetime, reason: Optional[str]) -> None:
        self.status, self.decided_by, self.decided_at, self.decision_reason = status, actor, now, reason
        self._changed(status)

    def _changed(self, change: str) -> None:
        self._record(events.ApprovalChanged(action=self.action, change=change, **self.wire()))

    def wire(self) -> dict[str, Any]:
        """The request as its events carry it (and the API shows it)."""
        return {
            "approval_id": self.id,
            "target": TARGETS[self.action],
            "target_id": self.target_id,
            "programme_id": self.programme_id,
            "service_id": self.service_id,
            "amount_cents": self.amount_cents,
            "budget_cents": self.budget_cents,
            "status": self.status,
            "reason": self.reason,
            "evidence": self.evidence,
            "requested_by": self.requested_by,
            "requested_at": to_wire(self.requested_at),
            "expires_at": to_wire(self.expires_at),
            "decided_by": self.decided_by,
            "decided_at": to_wire(self.decided_at),
            "decision_reason": self.decision_reason,
        }
