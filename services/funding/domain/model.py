"""Programmes, grants and tranches; a service's funding account follows the registry's standing.

Money is integer euro cents. A programme never commits more than its budget. A tranche is
released at most once, ever, and never while the service's funding is frozen.
"""
from datetime import date

from spc.shared.domain import Aggregate

from ..exceptions import (AlreadyReleased, FundingFrozen, InvalidAmount, OverBudget, ServiceNotActive,
                          ServiceNotActiveYet, TrancheCancelled, TrancheNotFound)
from . import events

SCHEDULED, RELEASED, FROZEN, CANCELLED = "scheduled", "released", "frozen", "cancelled"
FREEZING_STATUSES = ("suspended", "expired")  # open violations, or the pact's term ended


class Programme(Aggregate):
    @classmethod
    def open(cls, id, name, budget_cents):
        """A new programme with its budget envelope (`funding.programme_opened`)."""
        programme = cls(id, name, budget_cents)
        programme._record(events.ProgrammeOpened(id, name, budget_cents))
        return programme

    def __init__(self, id, name, budget_cents, committed_cents=0):
        if not isinstance(budget_cents, int) or isinstance(budget_cents, bool) or budget_cents <= 0:
            raise InvalidAmount("budget_cents must be a positive integer", {"budget_cents": budget_cents})
        self.id, self.name = id, name
        self.budget_cents, self.committed_cents = budget_cents, committed_cents

    @property
    def available_cents(self):
        return self.budget_cents - self.committed_cents

    def commit(self, amount_cents):
        if amount_cents > self.available_cents:
            raise OverBudget("the grant exceeds the programme's remaining budget",
                             {"requested_cents": amount_cents, "available_cents": self.available_cents})
        self.committed_cents += amount_cents


class Tranche:
    def __init__(self, id, grant_id, service_id, amount_cents, due_date: date, milestone=""):
        self.id, self.grant_id, self.service_id = id, grant_id, service_id
        self.amount_cents, self.due_date, self.milestone = amount_cents, due_date, milestone
        self.status = SCHEDULED
        self.released_by = None
        self.released_at = None


class Grant:
    def __init__(self, id, programme_id, service_id, tranches):
        self.id, self.programme_id, self.service_id = id, programme_id, service_id
        self.tranches = tranches

    @property
    def total_cents(self):
        return sum(t.amount_cents for t in self.tranches)


class FundingAccount(Aggregate):
    """Funding's view of one service: its standing (from registry events) and its tranches."""

    def __init__(self, service_id, status="unknown", version=0):
        self.service_id, self.status, self.version = service_id, status, version
        self.grants = []

    @property
    def frozen(self):
        return self.status in FREEZING_STATUSES

    @property
    def tranches(self):
        return [t for g in self.grants for t in g.tranches]

    def award(self, grant_id, programme: Programme, tranche_specs, new_id):
        """Split a grant into tranches; the service must be active and the budget must hold."""
        if self.status in ("unknown", "submitted"):  # perhaps approved a moment ago
            raise ServiceNotActiveYet(f"the service is not active ({self.status}) as far as funding "
                                      "knows; if it was approved a moment ago, retry", {"status": self.status})
        if self.status != "active":
            raise ServiceNotActive(f"the service is not active ({self.status})", {"status": self.status})
        if not tranche_specs:
            raise InvalidAmount("a grant needs at least one tranche")
        for spec in tranche_specs:
            amount = spec["amount_cents"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise InvalidAmount("amount_cents must be a positive integer", {"amount_cents": amount})
        tranches = [Tranche(new_id(), grant_id, self.service_id, s["amount_cents"], s["due_date"],
                            s.get("milestone", "")) for s in tranche_specs]
        grant = Grant(grant_id, programme.id, self.service_id, tranches)
        programme.commit(grant.total_cents)
        self.grants.append(grant)
        self._record(events.GrantAwarded(grant.id, programme.id, self.service_id, grant.total_cents, [
            {"tranche_id": t.id, "amount_cents": t.amount_cents, "due_date": t.due_date.isoformat(),
             "milestone": t.milestone} for t in tranches]))
        return grant

    def release(self, tranche_id, actor, now):
        tranche = self._tranche(tranche_id)
        if tranche.status == RELEASED:
            raise AlreadyReleased("the tranche was already released", {"tranche_id": tranche_id})
        if self.frozen or tranche.status == FROZEN:
            raise FundingFrozen("the service's funding is frozen", {"tranche_id": tranche_id})
        if tranche.status == CANCELLED:
            raise TrancheCancelled("the tranche was cancelled", {"tranche_id": tranche_id})
        tranche.status, tranche.released_by, tranche.released_at = RELEASED, actor, now
        self._record(events.TrancheReleased(tranche.id, tranche.grant_id, self.service_id,
                                            tranche.amount_cents, actor))
        return tranche

    def apply_standing(self, status, version):
        """Follow the registry: suspended or expired freezes (once: expired then suspended stays
        frozen), active again unfreezes, revoked cancels. A standing older than the one applied is
        ignored; returns whether it was applied."""
        if version <= self.version:
            return False
        was_frozen, self.status, self.version = self.frozen, status, version
        if self.frozen and not was_frozen:
            self._move_tranches({SCHEDULED}, FROZEN, "frozen")
        elif status == "active" and was_frozen:
            self._move_tranches({FROZEN}, SCHEDULED, "unfrozen")
        elif status == "revoked":
            self._move_tranches({SCHEDULED, FROZEN}, CANCELLED, None)
        return True

    def _move_tranches(self, from_statuses, to_status, change):
        moved = [t for t in self.tranches if t.status in from_statuses]
        for tranche in moved:
            tranche.status = to_status
        if change is not None:
            self._record(events.FundingChanged(change, self.service_id, self.version, [t.id for t in moved]))

    def _tranche(self, tranche_id):
        for tranche in self.tranches:
            if tranche.id == tranche_id:
                return tranche
        raise TrancheNotFound(f"tranche {tranche_id} is not this service's", {"tranche_id": tranche_id})
