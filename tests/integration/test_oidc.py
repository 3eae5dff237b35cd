"""Staff identities from OpenID Connect (shared/web/oidc.py), checked against a real issuer run here
(tests/oidc_provider.py: discovery, JWKS and signed tokens over HTTP, built with PyJWT): what a
valid token gives, each way a token is refused, key rotation, and the roles file."""

import base64
import json
import time

import jwt
import pytest

from spc.shared.web.auth import TokenAuth, parse_tokens
from spc.shared.core.errors import Unauthorized
from spc.shared.web.oidc import OidcConfigError, OidcVerifier, RoleMap
from tests.oidc_provider import AUDIENCE, ROLES_FILE, Provider


@pytest.fixture(scope="module")
def provider():
    p = Provider()
    yield p
    p.close()


@pytest.fixture
def auth(provider):
    """The staff tokens file's one token and the provider, as a service holds them."""
    verifier = OidcVerifier(provider.issuer, AUDIENCE, RoleMap.parse(ROLES_FILE), leeway=30, refetch_cooldown=0)
    return TokenAuth(parse_tokens(["viewer/ops:file-token-0123"]), verifier)


def bearer(token):
    return f"Bearer {token}"


def refused(auth, token):
    with pytest.raises(Unauthorized) as err:
        auth.authenticate(bearer(token))
    return err.value.message


def test_a_valid_token_gives_its_role_and_is_attributed_to_its_subject_and_issuer(auth, provider):
    actor = auth.authenticate(bearer(provider.token()))
    assert actor.role == "registrar" and not actor.scoped
    assert str(actor) == f"registrar f2b7c3e0-marie@{provider.issuer}"
    assert auth.authenticate(bearer("file-token-0123")).role == "viewer"  # the file still works beside


def test_scoped_roles_take_their_ids_from_a_claim(auth, provider):
    agent = auth.authenticate(
        bearer(provider.token(groups=["france-services-agents"], spc_counters=["FS-35-0042", "FS-35-0043"]))
    )
    assert agent.role == "counter_agent" and agent.scope == {"FS-35-0042", "FS-35-0043"}
    assert agent.may_act_on("counter_id", "FS-35-0042") and not agent.may_act_on("counter_id", "FS-29-0001")
    service = auth.authenticate(bearer(provider.token(groups=["spc-services"], spc_service_id="svc-1")))
    assert service.role == "service" and service.scope == {"svc-1"}
    # a scoped role with nothing to act on, or a service with two ids, is no role
    assert "no SPC role" in refused(auth, provider.token(groups=["france-services-agents"]))
    assert "no SPC role" in refused(auth, provider.token(groups=["spc-services"], spc_service_id="a+b"))


def test_the_first_staff_role_listed_wins_and_nested_claims_are_read():
    roles = RoleMap.parse('roles_claim = "realm_access.roles"\n[staff]\n"auditors" = "auditor"\n"registrars" = "registrar"\n')
    claims = {"realm_access": {"roles": ["registrars", "auditors", "offline_access"]}}
    assert roles.actor(claims, "s@i").role == "auditor"
    assert roles.actor({"realm_access": {"roles": ["offline_access"]}}, "s@i") is None
    assert roles.actor({}, "s@i") is None


def test_an_es256_token_is_accepted(auth, provider):
    kid = provider.add_key("ES256")
    assert auth.authenticate(bearer(provider.token(kid=kid))).role == "registrar"


NOW = object()  # replaced by the time when the test runs (not when it is collected)


@pytest.mark.parametrize(
    "claims,reason",
    [
        ({"exp": (NOW, -120)}, "token expired"),  # past the 30 s leeway
        ({"nbf": (NOW, +120)}, "not valid yet"),
        ({"aud": "another-app"}, "not meant for SPC"),
        ({"iss": "https://evil.example/realms/spc"}, "another issuer"),
        ({"sub": None}, "invalid token"),
        ({"exp": None}, "invalid token"),
        ({"groups": ["nobody-we-know"]}, "no SPC role"),
        ({"groups": 7}, "no SPC role"),  # not a list: no role, no 500
        ({"groups": ["france-services-agents"], "spc_counters": {"a": 1}}, "no SPC role"),
        ({"typ": "ID"}, "not an access token"),  # Keycloak's ID token
    ],
)
def test_a_token_is_refused_saying_why(auth, provider, claims, reason):
    claims = {k: (int(time.time()) + v[1] if isinstance(v, tuple) and v[0] is NOW else v) for k, v in claims.items()}
    assert reason in refused(auth, provider.token(**claims))


def test_an_id_token_by_its_header_is_refused(auth, provider):
    alg, private = provider.keys[provider.kid]
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    id_token = jwt.encode(claims, private, algorithm=alg, headers={"kid": provider.kid, "typ": "id+jwt"})
    assert "not an access token" in refused(auth, id_token)
    at = jwt.encode(claims, private, algorithm=alg, headers={"kid": provider.kid, "typ": "at+jwt"})
    assert auth.authenticate(bearer(at)).role == "registrar"


@pytest.mark.parametrize(
    "issuer",
    [
        "http://localhost.evil.example/realms/spc",
        "http://127.0.0.1@evil.example/x",
        "ftp://idp.example/realms/spc",
        "https:///realms",
    ],
)
def test_only_an_https_issuer_or_one_on_this_machine_is_taken(tmp_path, issuer):
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES_FILE)
    with pytest.raises(OidcConfigError):
        OidcVerifier.from_environ({"SPC_OIDC_ISSUER": issuer, "SPC_OIDC_AUDIENCE": "spc", "SPC_OIDC_ROLES_FILE": str(roles)})


def test_an_expiry_within_the_leeway_is_accepted(auth, provider):
    assert auth.authenticate(bearer(provider.token(exp=int(time.time()) - 10))).role == "registrar"


def test_alg_none_and_hmac_are_refused_before_any_key_is_looked_up(auth, provider):
    claims = jwt.decode(provider.token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": provider.kid})
    assert "not accepted" in refused(auth, unsigned)
    # HS256 keyed with the published public key: the classic confusion attack (signed by hand:
    # PyJWT itself refuses to use an asymmetric key as an HMAC secret)
    import hashlib
    import hmac

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': provider.kid}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    secret = json.dumps(provider._jwk(provider.kid)).encode()
    forged = f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
    assert "not accepted" in refused(auth, forged)
    header, payload, signature = provider.token().split(".")
    tampered = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered["groups"] = ["spc-auditors"]
    body = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    assert "invalid token" in refused(auth, f"{header}.{body}.{signature}")


def test_a_rotated_key_is_fetched_and_an_unpublished_one_refused(auth, provider):
    assert auth.authenticate(bearer(provider.token())).role == "registrar"
    fetches = provider.jwks_fetches
    new_kid = provider.rotate()
    assert auth.authenticate(bearer(provider.token(kid=new_kid))).role == "registrar"
    assert provider.jwks_fetches == fetches + 1  # one fetch for the new kid
    assert auth.authenticate(bearer(provider.token(kid=new_kid))).role == "registrar"
    assert provider.jwks_fetches == fetches + 1  # then cached
    rogue = provider.add_key("RS256", publish=False)
    assert "does not publish" in refused(auth, provider.token(kid=rogue))


def test_unknown_key_ids_fetch_the_key_set_at_most_once_per_cooldown(provider):
    verifier = OidcVerifier(provider.issuer, AUDIENCE, RoleMap.parse(ROLES_FILE), refetch_cooldown=60)
    assert verifier.authenticate(provider.token()).role == "registrar"
    fetches = provider.jwks_fetches
    for _ in range(5):
        with pytest.raises(Unauthorized):
            verifier.authenticate(provider.token(kid=provider.add_key("RS256", publish=False)))
    assert provider.jwks_fetches == fetches  # within the cooldown of the first fetch: none


def test_an_unreachable_issuer_refuses_the_token_and_names_no_secret(provider):
    from spc.shared.web.oidc import ProviderUnavailable

    verifier = OidcVerifier("http://127.0.0.1:1/realms/spc", AUDIENCE, RoleMap.parse(ROLES_FILE))
    with pytest.raises(ProviderUnavailable) as err:  # not counted against the client (shared/web/http.py)
        verifier.authenticate(provider.token())
    assert "cannot be reached" in err.value.message


@pytest.mark.parametrize(
    "environ,message",
    [
        ({"SPC_OIDC_ISSUER": "https://idp.example/realms/spc"}, "SPC_OIDC_AUDIENCE is needed"),
        ({"SPC_OIDC_ISSUER": "http://idp.example/realms/spc", "SPC_OIDC_AUDIENCE": "spc"}, "must be an https://"),
        ({"SPC_OIDC_ISSUER": "https://idp.example", "SPC_OIDC_AUDIENCE": "spc"}, "SPC_OIDC_ROLES_FILE is needed"),
        (
            {"SPC_OIDC_ISSUER": "https://idp.example", "SPC_OIDC_AUDIENCE": "spc", "SPC_OIDC_ROLES_FILE": "/nonexistent"},
            "cannot be read",
        ),
        (
            {
                "SPC_OIDC_ISSUER": "https://idp.example",
                "SPC_OIDC_AUDIENCE": "spc",
                "SPC_OIDC_ROLES_FILE": "ROLES",
                "SPC_OIDC_LEEWAY": "3600",
            },
            "between 0 and 300",
        ),
    ],
)
def test_wrong_settings_are_one_clear_error(tmp_path, environ, message):
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES_FILE)
    environ = {k: (str(roles) if v == "ROLES" else v) for k, v in environ.items()}
    with pytest.raises(OidcConfigError) as err:
        OidcVerifier.from_environ(environ)
    assert message in str(err.value)
    assert OidcVerifier.from_environ({}) is None


@pytest.mark.parametrize(
    "text,message",
    [
        ("[staff]\n", "roles_claim"),
        ('roles_claim = "groups"\n[staff]\n"x" = "king"\n', "not one of"),
        ('roles_claim = "groups"\n[scoped.mayor]\nrole_value = "m"\nids_claim = "c"\n', "not one of"),
        ('roles_claim = "groups"\n[scoped.service]\nrole_value = "m"\n', "needs role_value and ids_claim"),
        ('roles_claim = "groups"\n', "maps no value"),
        ('roles_claim = "groups"\n[staf]\n"x" = "auditor"\n', "unknown key"),
        ("roles_claim = ", "not TOML"),
    ],
)
def test_a_wrong_roles_file_says_what_is_wrong(text, message):
    with pytest.raises(OidcConfigError) as err:
        RoleMap.parse(text)
    assert message in str(err.value)


def test_the_example_roles_file_is_valid_and_maps_each_role():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "deploy/oidc-roles.example.toml").read_text()
    roles = RoleMap.parse(text, "deploy/oidc-roles.example.toml")
    assert {role for _, role in roles.staff} == {"registrar", "funding_officer", "distribution_officer", "auditor", "viewer"}
    assert {role for _, role, _ in roles.scoped} == {"counter_agent", "service"}
    assert roles.actor({"groups": ["spc-auditors", "spc-registrars"]}, "s@i").role == "auditor"
