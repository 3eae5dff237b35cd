"""Events funding records. `funding.tranche_released` is the payment order: once per tranche."""
from dataclasses import dataclass
from typing import ClassVar


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


@dataclass
class FundingFrozen:
    event_type: ClassVar[str] = "funding.funding_frozen"
    service_id: str
    version: int
    tranche_ids: list


@dataclass
class FundingUnfrozen:
    event_type: ClassVar[str] = "funding.funding_unfrozen"
    service_id: str
    version: int
    tranche_ids: list
