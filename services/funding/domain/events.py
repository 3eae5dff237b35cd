"""Events funding records. `funding.tranche_released` is the payment order: once per tranche."""
from dataclasses import dataclass
from typing import Any, ClassVar, Optional

from spc.shared.domain import Change


@dataclass
class ProgrammeOpened:
    event_type: ClassVar[str] = "funding.programme_opened"
    programme_id: str
    name: str
    budget_cents: int
    funder: Optional[dict[str, Any]] = None  # {name, siren, siret}; None: not given (contract v1)
    legal_basis: Optional[str] = None


@dataclass
class GrantAwarded:
    event_type: ClassVar[str] = "funding.grant_awarded"
    grant_id: str
    programme_id: str
    service_id: str
    total_cents: int
    tranches: list[dict[str, Any]]


@dataclass
class TrancheReleased:
    event_type: ClassVar[str] = "funding.tranche_released"
    tranche_id: str
    grant_id: str
    service_id: str
    amount_cents: int
    released_by: str
    released_at: Optional[str] = None
    due_date: Optional[str] = None
    evidence: Optional[str] = None
    reason: Optional[str] = None  # why before the due date
    approved_by: Optional[str] = None  # the second person, above the dual-control amount


@dataclass
class GrantRevoked:
    """What a grant still had to pay (its scheduled and frozen tranches) is cancelled and given
    back to its programme; what it paid stays paid."""
    event_type: ClassVar[str] = "funding.grant_revoked"
    grant_id: str
    programme_id: str
    service_id: str
    cancelled_cents: int
    tranche_ids: list[str]
    reason: str
    revoked_by: str
    approved_by: Optional[str] = None


@dataclass
class BudgetRaised:
    event_type: ClassVar[str] = "funding.budget_raised"
    programme_id: str
    from_cents: int
    to_cents: int
    reason: str
    raised_by: str
    approved_by: Optional[str] = None


@dataclass
class ApprovalChanged:
    """`funding.<action>_<change>`: a request for a second person's approval (domain/approvals.py)
    was made, approved, rejected or expired (`funding.release_requested`...)."""
    action: str
    change: str
    approval_id: str
    target: str
    target_id: str
    programme_id: str
    service_id: Optional[str]
    amount_cents: int
    budget_cents: Optional[int]
    status: str
    reason: str
    evidence: Optional[str]
    requested_by: str
    requested_at: str
    expires_at: str
    decided_by: Optional[str]
    decided_at: Optional[str]
    decision_reason: Optional[str]

    @property
    def event_type(self) -> str:
        return f"funding.{self.action}_{self.change}"


@dataclass
class FundingChanged(Change):
    """`funding.funding_<change>` (frozen, unfrozen): the tranches that moved, at the registry
    standing `version` that moved them."""
    family = "funding.funding_"
    change: str
    service_id: str
    version: int
    tranche_ids: list[str]
