"""Staff identities from an OpenID Connect provider (ProConnect, Keycloak...): SPC takes the
provider's JWT access tokens beside the tokens file (shared/web/auth.py), checks them with PyJWT and
the provider's published keys, and maps their claims to SPC's roles with a file the operators
write (docs/operations.md, "Staff identities from OpenID Connect"; deploy/oidc-roles.example.toml).

Checked: the signature (RS256 or ES256 only: `alg: none` and HMAC are refused), `iss` (the
configured issuer, which its discovery document must name too), `aud`, `exp` and `nbf` with a
bounded leeway, `sub`, and that it is an access token (header `typ` JWT or at+jwt; Keycloak's
`typ` claim Bearer, not ID). Keys come from the discovery document's `jwks_uri` (https), kept 5
minutes; a token signed with a key id not among them makes one fetch of the key set (a rotation;
at most one such fetch every 30 s), and is refused if the key is still unknown.

Configured by SPC_OIDC_ISSUER (unset: no OIDC), SPC_OIDC_AUDIENCE, SPC_OIDC_ROLES_FILE and
SPC_OIDC_LEEWAY (seconds, default 30, at most 300).
"""

import logging
import os
import threading
import time
import tomllib
from dataclasses import dataclass

import jwt
import requests

from .auth import SCOPED_ROLES, STAFF_ROLES, Actor
from ..core.errors import Unauthorized

log = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "ES256"]
DEFAULT_LEEWAY, MAX_LEEWAY = 30, 300
DISCOVERY_TTL = 3600  # seconds the discovery document is kept
FETCH_TIMEOUT = 5
REFETCH_COOLDOWN = 30  # least seconds between two fetches of the key set for unknown key ids
KEYS_TTL = 300  # seconds the key set is kept
# an access token's header `typ` (RFC 9068's at+jwt, or the plain JWT most providers write);
# an ID token is no key to the API
ACCESS_TOKEN_TYPES = (None, "JWT", "at+jwt", "application/at+jwt")


def _secure(url):
    """https, or plain http to this machine only (for trying)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1") and not parts.username


class ProviderUnavailable(Unauthorized):
    """The provider's documents cannot be had: the token is refused, but not counted against its
    client (shared/web/http.py): staff are not locked out while the provider is away."""


class OidcConfigError(ValueError):
    """SPC_OIDC_* or the roles file is wrong: said at start-up, in one line."""


@dataclass(frozen=True)
class RoleMap:
    """The roles file: which claim carries the user's groups or roles, which of its values give
    which staff role (the first listed wins), and which give a scoped role, with the claim that
    carries its ids."""

    roles_claim: str
    staff: tuple  # ((claim value, staff role), ...) in the file's order
    scoped: tuple  # ((claim value, scoped role, ids claim), ...)

    @classmethod
    def parse(cls, text, source="the roles file"):
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise OidcConfigError(f"{source} is not TOML: {exc}") from None
        roles_claim = doc.get("roles_claim")
        if not isinstance(roles_claim, str) or not roles_claim:
            raise OidcConfigError(f"{source}: roles_claim (the claim holding the user's groups or roles) is missing")
        staff = []
        for value, role in (doc.get("staff") or {}).items():
            if role not in STAFF_ROLES:
                raise OidcConfigError(f"{source}: [staff] {value!r} maps to {role!r}, not one of {', '.join(STAFF_ROLES)}")
            staff.append((value, role))
        scoped = []
        for role, entry in (doc.get("scoped") or {}).items():
            if role not in SCOPED_ROLES:
                raise OidcConfigError(f"{source}: [scoped.{role}] is not one of {', '.join(SCOPED_ROLES)}")
            if not isinstance(entry, dict) or not entry.get("role_value") or not entry.get("ids_claim"):
                raise OidcConfigError(f"{source}: [scoped.{role}] needs role_value and ids_claim")
            scoped.append((entry["role_value"], role, entry["ids_claim"]))
        unknown = set(doc) - {"roles_claim", "staff", "scoped"}
        if unknown:
            raise OidcConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
        if not staff and not scoped:
            raise OidcConfigError(f"{source} maps no value to any role")
        return cls(roles_claim, tuple(staff), tuple(scoped))

    def actor(self, claims, subject):
        """The Actor these claims give, or None when they map to no SPC role."""
        values = _claim(claims, self.roles_claim)
        values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
        values = [v for v in values if isinstance(v, str)]
        for value, role in self.staff:
            if value in values:
                return Actor(role, "", subject)
        for value, role, ids_claim in self.scoped:
            if value in values:
                ids = _claim(claims, ids_claim)
                ids = (
                    ids.split("+")
                    if isinstance(ids, str)
                    else [i for i in ids if isinstance(i, str)]
                    if isinstance(ids, list)
                    else []
                )
                ids = [i for i in ids if i]
                if not ids or (role == "service" and len(ids) != 1):
                    return None  # a scoped role with nothing (or, for a service, not one id) to act on
                return Actor(role, "+".join(ids), subject)
        return None


def _claim(claims, path):
    """A dotted path into the claims (`realm_access.roles`, as Keycloak nests them)."""
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class OidcVerifier:
    def __init__(self, issuer, audience, roles, leeway=DEFAULT_LEEWAY, refetch_cooldown=REFETCH_COOLDOWN):
        # the issuer exactly as its tokens' `iss` says it (OpenID Connect compares them exactly)
        self.issuer, self.audience, self.roles, self.leeway = issuer, audience, roles, leeway
        self.refetch_cooldown = refetch_cooldown
        self._lock = threading.Lock()
        self._jwks, self._discovered_at = None, 0.0

    @classmethod
    def from_environ(cls, environ=os.environ):
        """None when SPC_OIDC_ISSUER is unset; OidcConfigError when the settings are wrong."""
        issuer = (environ.get("SPC_OIDC_ISSUER") or "").strip()
        if not issuer:
            return None
        audience = (environ.get("SPC_OIDC_AUDIENCE") or "").strip()
        if not audience:
            raise OidcConfigError("SPC_OIDC_AUDIENCE is needed with SPC_OIDC_ISSUER (the client id SPC is registered as)")
        if not _secure(issuer):
            raise OidcConfigError(f"SPC_OIDC_ISSUER must be an https:// URL (got {issuer!r})")
        path = environ.get("SPC_OIDC_ROLES_FILE")
        if not path:
            raise OidcConfigError("SPC_OIDC_ROLES_FILE is needed with SPC_OIDC_ISSUER (deploy/oidc-roles.example.toml)")
        try:
            with open(path, encoding="utf-8") as handle:
                roles = RoleMap.parse(handle.read(), path)
        except OSError as exc:
            raise OidcConfigError(f"SPC_OIDC_ROLES_FILE cannot be read: {exc}") from None
        raw = environ.get("SPC_OIDC_LEEWAY", DEFAULT_LEEWAY)
        try:
            leeway = int(raw)
        except (TypeError, ValueError):
            raise OidcConfigError(f"SPC_OIDC_LEEWAY must be a number of seconds (got {raw!r})") from None
        if not 0 <= leeway <= MAX_LEEWAY:
            raise OidcConfigError(f"SPC_OIDC_LEEWAY must be between 0 and {MAX_LEEWAY} seconds (got {leeway})")
        return cls(issuer, audience, roles, leeway)

    def _keys(self):
        """The issuer's key set client, from its discovery document (fetched again hourly)."""
        with self._lock:
            if self._jwks is None or time.monotonic() - self._discovered_at > DISCOVERY_TTL:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    resp = requests.get(url, timeout=FETCH_TIMEOUT)
                    resp.raise_for_status()
                    doc = resp.json()
                except (requests.RequestException, ValueError) as exc:
                    log.error("OIDC: the issuer's discovery document %s cannot be read: %s", url, exc)
                    raise ProviderUnavailable("the identity provider cannot be reached to check this token") from None
                if doc.get("issuer") != self.issuer or not _secure(doc.get("jwks_uri") or ""):
                    log.error(
                        "OIDC: %s names issuer %r and jwks_uri %r; expected issuer %r",
                        url,
                        doc.get("issuer"),
                        doc.get("jwks_uri"),
                        self.issuer,
                    )
                    raise ProviderUnavailable("the identity provider's discovery document does not match SPC_OIDC_ISSUER")
                # an unknown key id fetches the set again, at most once per cooldown (tokens made
                # up with random key ids cannot make SPC hammer the provider)
                # the key set is kept 5 minutes (a key the provider withdraws is refused after);
                # keys are not cached one by one beyond it
                self._jwks = jwt.PyJWKClient(
                    doc["jwks_uri"],
                    cache_keys=False,
                    lifespan=KEYS_TTL,
                    timeout=FETCH_TIMEOUT,
                    cooldown_duration=self.refetch_cooldown,
                )
                self._discovered_at = time.monotonic()
            return self._jwks

    @staticmethod
    def accepts(token):
        """Whether `token` has a JWT's shape (three parts, dot-separated): only those are checked
        against the issuer; any other is unknown at once."""
        return token.count(".") == 2 and len(token) > 20

    def authenticate(self, token):
        """The Actor of a valid access token; Unauthorized (saying why, never the token) otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("unknown token") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"token algorithm {header.get('alg')!r} is not accepted ({', '.join(ALGORITHMS)})")
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise Unauthorized(f"not an access token (typ {header.get('typ')!r})")
        try:
            # an unknown key id makes one fetch of the key set (a rotation), then is refused
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            if "Fail to fetch" in str(exc):  # PyJWT's words when the key set cannot be had
                log.error("OIDC: the issuer's key set cannot be read: %s", exc)
                raise ProviderUnavailable("the identity provider cannot be reached to check this token") from None
            raise Unauthorized(f"token signed with a key the issuer does not publish ({exc})") from None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("token not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token not meant for SPC (aud)") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token from another issuer (iss)") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token ({type(exc).__name__})") from None
        if claims.get("typ", "Bearer") != "Bearer":  # Keycloak's: an ID token says "ID"
            raise Unauthorized(f"not an access token (typ {claims.get('typ')!r})")
        subject = f"{claims['sub']}@{self.issuer}"
        actor = self.roles.actor(claims, subject[:150])
        if actor is None:
            raise Unauthorized("the token's claims give no SPC role (SPC_OIDC_ROLES_FILE)")
        return actor
