"""What staff and other services ask of the registry."""
from dataclasses import dataclass

from .pact import Pact


@dataclass
class RegisterService:
    pact: Pact
    actor: str


@dataclass
class ApproveService:
    service_id: str
    actor: str


@dataclass
class RevokeService:
    service_id: str
    reason: str
    actor: str
