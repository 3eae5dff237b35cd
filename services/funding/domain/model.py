"""Programmes, grants and tranches; a service's funding account follows the registry's standing.

Money is integer euro cents. A programme never commits more than its budget, and its committed
amount is always what its tranches not cancelled add up to (released, scheduled or frozen): a
cancelled tranche gives its amount back. A tranche is released at most once, ever, never while
the service's funding is frozen, and before its due date only with a stated reason.
"""

from datetime import date, datetime

# Optional[X], not X | None: the mutation run (tests/mutation) would mutate the `|`, in annotations too
from typing import Any, Callable, Collection, Iterable, Optional

from spc.shared.core.clock import to_wire
from spc.shared.core.domain import Aggregate

from ..exceptions import (
    AlreadyReleased,
    BudgetNotRaised,
    FundingFrozen,
    GrantNotFound,
    InvalidAmount,
    NothingToRevoke,
    OverBudget,
    ReleaseBeforeDueDate,
    ServiceNotActive,
    ServiceNotActiveYet,
    TrancheCancelled,
    TrancheNotFound,
)
from . import events
from .funder import Funder

SCHEDULED, RELEASED, FROZEN, CANCELLED = "scheduled", "released", "frozen", "cancelled"
TRANCHE_STATUSES = (SCHEDULED, RELEASED, FROZEN, CANCELLED)
FREEZING_STATUSES = ("suspended", "expired")  # open violations, or the pact's term ended


class Programme(Aggregate):
    @classmethod
    def open(
        cls, id: str, name: str, budget_cents: int, funder: Optional[Funder] = None, legal_basis: Optional[str] = None
    ) -> "Programme":
        """A new programme with its budget envelope, its funder and the text it rests on
        (`funding.programme_opened`); a programme opened without them records them as missing."""
        programme = cls(id, name, budget_cents, funder=funder, legal_basis=legal_basis)
        programme._record(
            events.ProgrammeOpened(
                programme_id=id,
                name=name,
                budget_cents=budget_cents,
                funder=funder.view() if funder is not None else None,
                legal_basis=legal_basis,
            )
        )
        return programme

    def __init__(
        self,
        id: str,
        name: str,
        budget_cents: int,
        committed_cents: int = 0,
        funder: Optional[Funder] = None,
        legal_basis: Optional[str] = None,
    ) -> None:
        if not isinstance(budget_cents, int) or isinstance(budget_cents, bool) or budget_cents <= 0:
            raise InvalidAmount("budget_cents must be a positive integer", {"budget_cents": budget_cents})
        self.id, self.name = id, name
        self.budget_cents, self.committed_cents = budget_cents, committed_cents
        self.funder_name: Optional[str]
        self.funder_siren: Optional[str]
        self.funder_siret: Optional[str]
        self.funder_name, self.funder_siren, self.funder_siret = (
            (funder.name, funder.siren, funder.siret) if funder else (None, None, None)
        )
        self.legal_basis = legal_basis

    @property
    def funder(self) -> Optional[Funder]:
        """Who funds it; None for a programme opened without saying (contract v1)."""
        # a funder's name comes with its SIREN (__init__): the ignore
        return Funder(self.funder_name, self.funder_siren, self.funder_siret) if self.funder_name else None  # type: ignore[arg-type]

    @property
    def available_cents(self) -> int:
        return self.budget_cents - self.committed_cents

    def commit(self, amount_cents: int) -> None:
        if amount_cents > self.available_cents:
            raise OverBudget(
                "the grant exceeds the programme's remaining budget",
                {"requested_cents": amount_cents, "available_cents": self.available_cents},
            )
        self.committed_cents += amount_cents

    def give_back(self, amount_cents: int) -> None:
        """A cancelled tranche's amount returns to what the programme has available."""
        if not 0 < amount_cents <= self.committed_cents:
            raise ValueError(f"programme {self.id} cannot give back {amount_cents} of {self.committed_cents} committed")
        self.committed_cents -= amount_cents

    def raise_of(self, to_cents: int) -> int:
        """How much a new budget of `to_cents` adds (a budget is only ever raised here)."""
        if not isinstance(to_cents, int) or isinstance(to_cents, bool) or to_cents <= self.budget_cents:
            raise BudgetNotRaised(
                "a new budget must be above the current one", {"budget_cents": self.budget_cents, "requested_cents": to_cents}
            )
        return to_cents - self.budget_cents

    def raise_budget(self, to_cents: int, actor: str, reason: str, approved_by: Optional[str] = None) -> None:
        """The envelope grows to `to_cents` (`funding.budget_raised`, both people named)."""
        raised_from = self.budget_cents
        self.raise_of(to_cents)
        self.budget_cents = to_cents
        self._record(
            events.BudgetRaised(
                programme_id=self.id,
                from_cents=raised_from,
                to_cents=to_cents,
                reason=reason,
                raised_by=actor,
                approved_by=approved_by,
            )
        )


class Tranche:
    def __init__(self, id: str, grant_id: str, service_id: str, amount_cents: int, due_date: date, milestone: str = "") -> None:
        self.id, self.grant_id, self.service_id = id, grant_id, service_id
        self.amount_cents, self.due_date, self.milestone = amount_cents, due_date, milestone
        self.status = SCHEDULED
        self.released_by: Optional[str] = None
        self.released_at: Optional[datetime] = None
        self.release_evidence: Optional[str] = None
        self.release_reason: Optional[str] = None
        self.approved_by: Optional[str] = None

    def check_due(self, now: datetime, reason: Optional[str]) -> None:
        """On or after the due date (the UTC date of `now`), or earlier with a stated reason."""
        if now.date() < self.due_date and not (reason or "").strip():
            raise ReleaseBeforeDueDate(
                f"the tranche is due on {self.due_date.isoformat()}: state a reason to release it earlier",
                {"tranche_id": self.id, "due_date": self.due_date.isoformat(), "today": now.date().isoformat()},
            )

    def release(
        self, actor: str, now: datetime, evidence: Optional[str], reason: Optional[str], approved_by: Optional[str] = None
    ) -> None:
        self.check_due(now, reason)
        self.status, self.released_by, self.released_at = RELEASED, actor, now
        self.release_evidence, self.release_reason, self.approved_by = evidence, reason, approved_by


class Grant:
    def __init__(
        self, id: str, programme_id: str, service_id: str, tranches: list[Tranche], awarded_at: Optional[datetime] = None
    ) -> None:
        self.id, self.programme_id, self.service_id = id, programme_id, service_id
        self.tranches = tranches
        self.awarded_at = awarded_at  # when it was awarded (UTC, naive): the open data's dateConvention

    @property
    def total_cents(self) -> int:
        return sum(t.amount_cents for t in self.tranches)


class FundingAccount(Aggregate):
    """Funding's view of one service: its standing (from registry events) and its tranches."""

    def __init__(self, service_id: str, status: str = "unknown", version: int = 0) -> None:
        self.service_id, self.status, self.version = service_id, status, version
        self.status_since: Optional[datetime] = None  # when the status last changed, and why
        self.status_reason: Optional[str] = None
        self.grants: list[Grant] = []

    @property
    def frozen(self) -> bool:
        return self.status in FREEZING_STATUSES

    @property
    def tranches(self) -> list[Tranche]:
        return [t for g in self.grants for t in g.tranches]

    def award(
        self,
        grant_id: str,
        programme: Programme,
        tranche_specs: list[dict[str, Any]],
        new_id: Callable[[], str],
        now: Optional[datetime] = None,
    ) -> Grant:
        """Split a grant into tranches; the service must be active and the budget must hold.
        `now`: when (UTC, naive), kept with the grant."""
        if self.status in ("unknown", "submitted"):  # perhaps approved a moment ago
            raise ServiceNotActiveYet(
                f"the service is not active ({self.status}) as far as funding knows; if it was approved a moment ago, retry",
                {"status": self.status},
            )
        if self.status != "active":
            raise ServiceNotActive(f"the service is not active ({self.status})", {"status": self.status})
        if not tranche_specs:
            raise InvalidAmount("a grant needs at least one tranche")
        for spec in tranche_specs:
            amount = spec["amount_cents"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise InvalidAmount("amount_cents must be a positive integer", {"amount_cents": amount})
        tranches = [
            Tranche(new_id(), grant_id, self.service_id, s["amount_cents"], s["due_date"], s.get("milestone", ""))
            for s in tranche_specs
        ]
        grant = Grant(grant_id, programme.id, self.service_id, tranches, now)
        programme.commit(grant.total_cents)
        self.grants.append(grant)
        self._record(
            events.GrantAwarded(
                grant_id=grant.id,
                programme_id=programme.id,
                service_id=self.service_id,
                total_cents=grant.total_cents,
                tranches=[
                    {
                        "tranche_id": t.id,
                        "amount_cents": t.amount_cents,
                        "due_date": t.due_date.isoformat(),
                        "milestone": t.milestone,
                    }
                    for t in tranches
                ],
            )
        )
        return grant

    def releasable(self, tranche_id: str, now: datetime, reason: Optional[str] = None) -> Tranche:
        """The tranche, if it may be released now (with `reason` before its due date)."""
        tranche = self._tranche(tranche_id)
        if tranche.status == RELEASED:
            raise AlreadyReleased("the tranche was already released", {"tranche_id": tranche_id})
        if self.frozen or tranche.status == FROZEN:
            raise FundingFrozen("the service's funding is frozen", {"tranche_id": tranche_id})
        if tranche.status == CANCELLED:
            raise TrancheCancelled("the tranche was cancelled", {"tranche_id": tranche_id})
        tranche.check_due(now, reason)
        return tranche

    def release(
        self,
        tranche_id: str,
        actor: str,
        now: datetime,
        evidence: Optional[str] = None,
        reason: Optional[str] = None,
        approved_by: Optional[str] = None,
    ) -> Tranche:
        """The payment order for one tranche: who, when, on what evidence, why early if it is;
        above the dual-control amount, who approved it too."""
        tranche = self.releasable(tranche_id, now, reason)
        tranche.release(actor, now, evidence, reason, approved_by)
        self._record(
            events.TrancheReleased(
                tranche_id=tranche.id,
                grant_id=tranche.grant_id,
                service_id=self.service_id,
                amount_cents=tranche.amount_cents,
                released_by=actor,
                released_at=to_wire(now),
                due_date=tranche.due_date.isoformat(),
                evidence=evidence,
                reason=reason,
                approved_by=approved_by,
            )
        )
        return tranche

    def revocable(self, grant_id: str) -> tuple[Grant, list[Tranche]]:
        """(the grant, what it still had to pay: its scheduled and frozen tranches)."""
        grant = self._grant(grant_id)
        unpaid = [t for t in grant.tranches if t.status in (SCHEDULED, FROZEN)]
        if not unpaid:
            raise NothingToRevoke("every tranche of the grant was released or cancelled already", {"grant_id": grant_id})
        return grant, unpaid

    def revoke_grant(self, grant_id: str, actor: str, reason: str, approved_by: Optional[str] = None) -> Grant:
        """Cancel what the grant still had to pay; its programme gets it back (pull_returns)."""
        grant, unpaid = self.revocable(grant_id)
        for tranche in unpaid:
            tranche.status = CANCELLED
        self._give_back(unpaid)
        self._record(
            events.GrantRevoked(
                grant_id=grant.id,
                programme_id=grant.programme_id,
                service_id=self.service_id,
                cancelled_cents=sum(t.amount_cents for t in unpaid),
                tranche_ids=[t.id for t in unpaid],
                reason=reason,
                revoked_by=actor,
                approved_by=approved_by,
            )
        )
        return grant

    def apply_standing(self, status: str, version: int, reason: Optional[str] = None, at: Optional[datetime] = None) -> bool:
        """Follow the registry: suspended or expired freezes (once: expired then suspended stays
        frozen), active again unfreezes, revoked cancels. A change of status keeps when it
        happened (`at`, the standing's time) and the registry's reason. A standing older than the
        one applied is ignored; returns whether it was applied."""
        if version <= self.version:
            return False
        if status != self.status:
            self.status_since, self.status_reason = at, reason
        was_frozen, self.status, self.version = self.frozen, status, version
        if self.frozen and not was_frozen:
            self._move_tranches({SCHEDULED}, FROZEN, "frozen")
        elif status == "active" and was_frozen:
            self._move_tranches({FROZEN}, SCHEDULED, "unfrozen")
        elif status == "revoked":
            self._give_back(self._move_tranches({SCHEDULED, FROZEN}, CANCELLED, None))
        return True

    def pull_returns(self) -> dict[str, int]:
        """{programme id: cents} the tranches cancelled since the last pull give back to their
        programmes (and forget them): whoever cancels hands them to the programmes."""
        returns: dict[str, int] = self.__dict__.pop("_returns", {})
        return returns

    def _give_back(self, cancelled: Iterable[Tranche]) -> None:
        returns: dict[str, int] = self.__dict__.setdefault("_returns", {})
        programme_of = {g.id: g.programme_id for g in self.grants}
        for tranche in cancelled:
            programme_id = programme_of[tranche.grant_id]
            returns[programme_id] = returns.get(programme_id, 0) + tranche.amount_cents

    def _move_tranches(self, from_statuses: Collection[str], to_status: str, change: Optional[str]) -> list[Tranche]:
        moved = [t for t in self.tranches if t.status in from_statuses]
        for tranche in moved:
            tranche.status = to_status
        if change is not None:
            self._record(
                events.FundingChanged(
                    change=change, service_id=self.service_id, version=self.version, tranche_ids=[t.id for t in moved]
                )
            )
        return moved

    def _grant(self, grant_id: str) -> Grant:
        for grant in self.grants:
            if grant.id == grant_id:
                return grant
        raise GrantNotFound(f"grant {grant_id} is not this service's", {"grant_id": grant_id})

    def _tranche(self, tranche_id: str) -> Tranche:
        for tranche in self.tranches:
            if tranche.id == tranche_id:
                return tranche
        raise TrancheNotFound(f"tranche {tranche_id} is not this service's", {"tranche_id": tranche_id})
