"""What staff ask of funding."""

from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class CreateProgramme:
    name: str
    budget_cents: int
    actor: str
    funder: Optional[dict[str, Any]] = None  # {name, siret} or {name, siren}; None: not given (contract v1)
    legal_basis: Optional[str] = None


@dataclass
class AwardGrant:
    programme_id: str
    service_id: str
    tranches: list[dict[str, Any]]
    actor: str


@dataclass
class ReleaseTranche:
    tranche_id: str
    actor: str
    evidence: Optional[str] = None  # a reference to the milestone's evidence, or an https:// URL
    reason: Optional[str] = None  # required before the due date


@dataclass
class RevokeGrant:
    grant_id: str
    actor: str
    reason: str


@dataclass
class RaiseBudget:
    programme_id: str
    budget_cents: int  # the new budget, above the current one
    actor: str
    reason: str


@dataclass
class RequestApproval:
    """One funding officer asks for a change of money that another must approve."""

    action: str  # domain/approvals.ACTIONS
    target_id: str  # the tranche, the grant or the programme
    actor: str
    person: str  # Actor.person: who, whatever the token
    reason: str
    evidence: Optional[str] = None  # a release's evidence
    budget_cents: Optional[int] = None  # a budget raise's new budget


@dataclass
class DecideApproval:
    approval_id: str
    actor: str
    person: str
    reason: Optional[str] = None  # a rejection's
