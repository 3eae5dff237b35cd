"""What staff and other services ask of the registry."""

from dataclasses import dataclass
from typing import Any

from .pact import Pact


@dataclass
class RegisterService:
    pact: Pact
    actor: str


@dataclass
class ApproveService:
    service_id: str
    actor: str
    reason: str | None = None  # required when the registries disagree with the declared identity


@dataclass
class RevokeService:
    service_id: str
    reason: str
    actor: str


@dataclass
class ProposeAmendment:
    service_id: str
    changes: dict[str, Any]  # a subset of pact.AMENDABLE, each part whole, as plain JSON
    reason: str
    actor: str


@dataclass
class DecideAmendment:
    service_id: str
    amendment_id: str
    actor: str
    reason: str = ""
