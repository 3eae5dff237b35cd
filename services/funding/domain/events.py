"""Events funding records. `funding.tranche_released` is the payment order: once per tranche."""
from dataclasses import dataclass
from typing import ClassVar, Optional

from spc.shared.domain import Change


@dataclass
class ProgrammeOpened:
    event_type: ClassVar[str] = "funding.programme_opened"
    programme_id: str
    name: str
    budget_cents: int
    funder: Optional[dict] = None  # {name, siren, siret}; None: not given (contract v1)
    legal_basis: Optional[str] = None


@dataclass
class GrantAwarded:
    event_type: ClassVar[str] = "funding.grant_awarded"
    grant_id: str
    programme_id: str
    service_id: str
    total_cents: int
    tranches: list


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


@dataclass
class FundingChanged(Change):
    """`funding.funding_<change>` (frozen, unfrozen): the tranches that moved, at the registry
    standing `version` that moved them."""
    family = "funding.funding_"
    change: str
    service_id: str
    version: int
    tranche_ids: list
