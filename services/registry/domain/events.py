"""Events the registry records; each carries the service's whole standing and its version."""
from dataclasses import dataclass


@dataclass
class StandingChanged:
    """`registry.service_<change>` (submitted, approved, suspended, reinstated, revoked): the
    service's whole standing after the change, so consumers keep the newest `version`."""
    change: str
    service_id: str
    name: str
    status: str
    version: int
    territories: dict
    reason: str | None = None

    @property
    def event_type(self):
        return f"registry.service_{self.change}"
