"""Events distribution records: listings published at or withdrawn from counters."""
from dataclasses import dataclass
from typing import ClassVar


@dataclass
class ListingPublished:
    event_type: ClassVar[str] = "distribution.listing_published"
    service_id: str
    counter_ids: list
    reason: str | None = None


@dataclass
class ListingWithdrawn:
    event_type: ClassVar[str] = "distribution.listing_withdrawn"
    service_id: str
    counter_ids: list
    reason: str | None = None
