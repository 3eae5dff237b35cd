"""Bearer-token roles for the admin API (contract §4)."""

import hashlib
import hmac
import os
from dataclasses import dataclass

from ..core.errors import Unauthorized

STAFF_ROLES = ("registrar", "funding_officer", "distribution_officer", "auditor", "viewer")
# roles whose label names what they may act on (contract §4): a France Services agent's counters
# (`counter_agent/<counter id>[+<counter id>…]`) and a citizen service's own id (`service/<id>`)
SCOPED_ROLES = {"counter_agent": "counter_id", "service": "service_id"}
ROLES = STAFF_ROLES + tuple(SCOPED_ROLES)


@dataclass(frozen=True)
class Actor:
    role: str
    label: str
    subject: str = ""  # an OIDC identity: `<sub>@<issuer>` (shared/web/oidc.py); a file's token: ""

    def __str__(self):
        """As recorded with what it did (events' `actor`, staff actions): `role[/label]`, and the
        OIDC subject after a space when there is one."""
        base = f"{self.role}/{self.label}" if self.label else self.role
        return f"{base} {self.subject}"[:200] if self.subject else base

    @property
    def person(self):
        """Who acts, whatever the token: the OIDC subject, else the token's label (else its role).
        Two-person rules compare this: one person's two tokens are still one person."""
        return self.subject or self.label or self.role

    @property
    def scoped(self):
        return self.role in SCOPED_ROLES

    @property
    def scope(self):
        """What a scoped token may act on (the ids in its label)."""
        return frozenset(x for x in self.label.split("+") if x) if self.scoped else frozenset()

    def may_act_on(self, kind, value):
        """A staff role acts on anything; a scoped one only on the ids of its label, of its kind."""
        return not self.scoped or (SCOPED_ROLES[self.role] == kind and value in self.scope)


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
        if role in SCOPED_ROLES and not label:
            raise ValueError(f"a {role} token names what it may act on: {role}/<{SCOPED_ROLES[role]}>:token")
        if role == "service" and "+" in label:
            raise ValueError("a service token acts for one service: service/<service id>:token")
        if secret.startswith("sha256:"):
            digest = bytes.fromhex(secret[len("sha256:") :])
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
    """The tokens file's tokens, and (`oidc`: shared/web/oidc.OidcVerifier) an OIDC provider's access
    tokens: a bearer token that is no token of the file and looks like a JWT is checked there."""

    def __init__(self, credentials, oidc=None):
        self.credentials, self.oidc = credentials, oidc

    def authenticate(self, header):
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a bearer token is required")
        digest = hashlib.sha256(token.encode()).digest()
        for cred in self.credentials:
            if hmac.compare_digest(cred.digest, digest):
                return cred.actor
        if self.oidc is not None and self.oidc.accepts(token):
            return self.oidc.authenticate(token)
        raise Unauthorized("unknown token")
