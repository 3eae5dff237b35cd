"""Events distribution records (listings published at or withdrawn from counters): declared once,
with their wire form, in the public contract (shared/events/outbound.py); built by keyword."""
from spc.shared.events.outbound import ListingsChanged

__all__ = ["ListingsChanged"]
