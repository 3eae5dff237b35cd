"""Events the registry records; each carries the service's whole standing and its version."""
from dataclasses import dataclass, field
from typing import Any

from spc.shared.domain import Change


@dataclass
class StandingChanged(Change):
    """`registry.service_<change>` (submitted, approved, suspended, reinstated, revoked, expired)
    and `registry.pact_amended`: the service's whole standing after the change, so consumers keep
    the newest `version`."""
    family = "registry.service_"
    change: str
    service_id: str
    name: str
    status: str
    version: int
    territories: dict[str, Any]
    reason: str | None = None
    pact_version: int = 1
    commitments: list[dict[str, Any]] = field(default_factory=list)
    amendment_id: str | None = None
    mission: str | None = None
    domains: list[str] = field(default_factory=list)
    contact_email: str | None = None
    referral: str | None = None

    @property
    def event_type(self) -> str:
        return "registry.pact_amended" if self.change == "pact_amended" else self.family + self.change


@dataclass
class AmendmentDecided(Change):
    """`registry.amendment_proposed` / `registry.amendment_rejected` (an approval is
    `registry.pact_amended`, a StandingChanged)."""
    family = "registry.amendment_"
    change: str
    service_id: str
    amendment_id: str
    parts: list[str]
    base_version: int
    reason: str


@dataclass
class IdentityChecked(Change):
    """`registry.identity_verified` / `registry.identity_mismatch` (a mismatch or not_found): the
    registries settled what they say of the service's declared identity."""
    family = "registry.identity_"
    change: str
    service_id: str
    outcome: str
    fields: dict[str, str]
    source: str
    siren: str | None = None
