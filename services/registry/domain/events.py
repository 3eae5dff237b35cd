"""Events the registry records (each lifecycle one carries the service's whole standing and its
version): declared once, with their wire form, in the public contract
(shared/core/events/outbound.py); built by keyword."""

from spc.shared.core.events.outbound import AmendmentDecided, IdentityChecked, StandingChanged

__all__ = ["AmendmentDecided", "IdentityChecked", "StandingChanged"]
