"""Events the registry records; each carries the service's whole standing and its version."""
from dataclasses import dataclass
from typing import ClassVar


@dataclass
class _Standing:
    service_id: str
    name: str
    status: str
    version: int
    territories: dict
    reason: str | None = None


@dataclass
class ServiceSubmitted(_Standing):
    event_type: ClassVar[str] = "registry.service_submitted"


@dataclass
class ServiceApproved(_Standing):
    event_type: ClassVar[str] = "registry.service_approved"


@dataclass
class ServiceSuspended(_Standing):
    event_type: ClassVar[str] = "registry.service_suspended"


@dataclass
class ServiceReinstated(_Standing):
    event_type: ClassVar[str] = "registry.service_reinstated"


@dataclass
class ServiceRevoked(_Standing):
    event_type: ClassVar[str] = "registry.service_revoked"
