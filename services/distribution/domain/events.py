"""Events distribution records (listings published at or withdrawn from counters): declared once,
with their wire form, in the public contract (shared/core/events/outbound.py); built by keyword."""

from spc.shared.core.events.outbound import ListingsChanged

__all__ = ["ListingsChanged"]
