"""Events distribution records: listings published at or withdrawn from counters."""
from dataclasses import dataclass


@dataclass
class ListingsChanged:
    """`distribution.listing_<change>` (published, withdrawn): the counters concerned."""
    change: str
    service_id: str
    counter_ids: list
    reason: str | None = None

    @property
    def event_type(self):
        return f"distribution.listing_{self.change}"
