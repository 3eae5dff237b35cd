"""What staff ask of funding."""
from dataclasses import dataclass
from typing import Optional


@dataclass
class CreateProgramme:
    name: str
    budget_cents: int
    actor: str
    funder: Optional[dict] = None  # {name, siret} or {name, siren}; None: not given (contract v1)
    legal_basis: Optional[str] = None


@dataclass
class AwardGrant:
    programme_id: str
    service_id: str
    tranches: list
    actor: str


@dataclass
class ReleaseTranche:
    tranche_id: str
    actor: str
    evidence: Optional[str] = None  # a reference to the milestone's evidence, or an https:// URL
    reason: Optional[str] = None  # required before the due date
