"""Events funding records (`funding.tranche_released` is the payment order: once per tranche):
declared once, with their wire form, in the public contract (shared/core/events/outbound.py); built by
keyword."""

from spc.shared.core.events.outbound import (
    ApprovalChanged,
    BudgetRaised,
    FundingChanged,
    GrantAwarded,
    GrantRevoked,
    ProgrammeOpened,
    TrancheReleased,
)

__all__ = [
    "ApprovalChanged",
    "BudgetRaised",
    "FundingChanged",
    "GrantAwarded",
    "GrantRevoked",
    "ProgrammeOpened",
    "TrancheReleased",
]
