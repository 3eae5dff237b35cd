"""What staff ask of funding."""
from dataclasses import dataclass


@dataclass
class CreateProgramme:
    name: str
    budget_cents: int
    actor: str


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
