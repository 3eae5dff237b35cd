"""Bearer-token roles for the admin API (contract §4)."""
import hashlib
import hmac
import os
from dataclasses import dataclass

from .errors import Unauthorized

ROLES = ("registrar", "funding_officer", "distribution_officer", "auditor", "viewer")


@dataclass(frozen=True)
class Actor:
    role: str
    label: str

    def __str__(self):
        return f"{self.role}/{self.label}" if self.label else self.role


@dataclass(frozen=True)
class _Credential:
    actor: Actor
    digest: bytes


def parse_tokens(lines):
    """Parse `role:token`, `role/label:token` or `role:sha256:<hex>` entries."""
    creds = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, secret = line.partition(":")
        role, _, label = head.partition("/")
        if not sep or not secret or role not in ROLES:
            raise ValueError(f"bad admin token entry for role {role!r}: expected role[/label]:token")
        if secret.startswith("sha256:"):
            digest = bytes.fromhex(secret[len("sha256:"):])
        else:
            digest = hashlib.sha256(secret.encode()).digest()
        creds.append(_Credential(Actor(role, label), digest))
    return creds


def load_tokens(environ=os.environ):
    lines = [x for x in environ.get("SPC_ADMIN_TOKENS", "").split(",")]
    path = environ.get("SPC_ADMIN_TOKENS_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            lines += handle.read().splitlines()
    return parse_tokens(lines)


class TokenAuth:
    def __init__(self, credentials):
        self.credentials = credentials

    def authenticate(self, header):
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required")
        digest = hashlib.sha256(token.strip().encode()).digest()
        for cred in self.credentials:
            if hmac.compare_digest(cred.digest, digest):
                return cred.actor
        raise Unauthorized("unknown token")
