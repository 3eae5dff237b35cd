"""Events distribution records: listings published at or withdrawn from counters."""
from dataclasses import dataclass

from spc.shared.domain import Change


@dataclass
class ListingsChanged(Change):
    """`distribution.listing_<change>` (published, withdrawn): the counters concerned."""
    family = "distribution.listing_"
    change: str
    service_id: str
    counter_ids: list[str]
    reason: str | None = None
