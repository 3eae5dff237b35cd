"""Tokens and scoped roles (contract §4), with nothing running."""

import dataclasses

import pytest

from spc.shared.web.auth import Actor, TokenAuth, load_tokens, parse_tokens
from spc.shared.core.errors import Forbidden, Unauthorized
from spc.shared.web.http import JsonHttp
from spc.shared.web.oidc import OidcVerifier


def test_a_scoped_token_names_what_it_may_act_on():
    [agent] = parse_tokens(["counter_agent/1820+35-004:secret"])
    assert agent.actor.scope == {"1820", "35-004"}
    assert agent.actor.may_act_on("counter_id", "1820") and not agent.actor.may_act_on("counter_id", "99")
    assert not agent.actor.may_act_on("service_id", "1820")  # a counter's id is no service's
    with pytest.raises(ValueError, match="names what it may act on"):
        parse_tokens(["service:secret"])


def test_staff_roles_act_on_anything_and_labels_only_name_them():
    [registrar] = parse_tokens(["registrar/alice:secret"])
    assert registrar.actor.may_act_on("service_id", "anything") and registrar.actor.scope == frozenset()


def endpoint(**kw):
    return JsonHttp("GET", "/services/<string:service_id>/dossier", **kw)


@pytest.mark.parametrize(
    "actor,path,ok",
    [
        (Actor("service", "s-1"), {"service_id": "s-1"}, True),
        (Actor("service", "s-1"), {"service_id": "s-2"}, False),  # another service's
        (Actor("counter_agent", "s-1"), {"service_id": "s-1"}, False),  # not a role this operation admits
        (Actor("auditor", "x"), {"service_id": "s-2"}, True),
        (Actor("registrar", "x"), {"service_id": "s-2"}, False),  # a staff role not declared
    ],
)
def test_an_operation_admits_its_roles_and_scoped_tokens_on_their_own_ids(actor, path, ok):
    ep = endpoint(role=("auditor", "viewer"), scoped=("service",))
    if ok:
        ep._authorise(actor, path)
    else:
        with pytest.raises(Forbidden):
            ep._authorise(actor, path)


def test_a_scoped_token_reads_nothing_an_operation_does_not_declare_for_it():
    with pytest.raises(Forbidden):
        JsonHttp("GET", "/services")._authorise(Actor("service", "s-1"), {})
    with pytest.raises(ValueError, match="need their id"):
        JsonHttp("GET", "/services", scoped=("service",))


def test_token_auth_finds_the_actor():
    auth = TokenAuth(parse_tokens(["service/s-1:tok"]))
    assert auth.authenticate("Bearer tok") == Actor("service", "s-1")


def test_a_service_token_is_for_one_service():
    with pytest.raises(ValueError, match="one service"):
        parse_tokens(["service/s-1+s-2:secret"])


def test_a_scoped_token_acts_only_on_ids_of_its_own_kind():
    """A service token whose label happens to be a counter's id is no counter agent."""
    service = Actor("service", "1820")
    assert service.may_act_on("service_id", "1820")
    assert not service.may_act_on("counter_id", "1820")


def test_the_tokens_file_skips_blanks_and_comments_and_refuses_what_is_not_an_entry():
    creds = parse_tokens(
        ["", "   ", "# the registrars", "registrar/alice:s1", "# auditors", "auditor:sha256:" + "ab" * 32, "viewer/a+b:s3"]
    )
    assert [str(c.actor) for c in creds] == ["registrar/alice", "auditor", "viewer/a+b"]
    assert creds[1].digest == bytes.fromhex("ab" * 32)
    for bad in ("registrar", "registrar:", "registrar/alice:", "mayor:secret", ":secret"):
        with pytest.raises(ValueError, match="bad admin token entry"):
            parse_tokens([bad])


def test_tokens_come_from_the_variable_and_the_file_together(tmp_path):
    tokens = tmp_path / "admin-tokens"
    tokens.write_text("# staff\nauditor/bob:from-file\n", encoding="utf-8")
    creds = load_tokens({"SPC_ADMIN_TOKENS": "registrar:from-env", "SPC_ADMIN_TOKENS_FILE": str(tokens)})
    auth = TokenAuth(creds)
    assert auth.authenticate("Bearer from-env") == Actor("registrar", "")
    assert auth.authenticate("Bearer from-file") == Actor("auditor", "bob")
    assert [str(c.actor) for c in load_tokens({"SPC_ADMIN_TOKENS": "viewer:v"})] == ["viewer"]


@pytest.mark.parametrize("header", [None, "", "tok", "Basic tok", "Token tok", "Bearer", "Bearer   ", "Bearer other"])
def test_only_a_known_bearer_token_authenticates(header):
    auth = TokenAuth(parse_tokens(["registrar:tok"]))
    with pytest.raises(Unauthorized):
        auth.authenticate(header)
    assert auth.authenticate("bearer  tok ") == Actor("registrar", "")  # the scheme is case-insensitive


def test_an_actor_cannot_be_changed_once_authenticated():
    actor = TokenAuth(parse_tokens(["viewer:tok"])).authenticate("Bearer tok")
    with pytest.raises(dataclasses.FrozenInstanceError):
        actor.role = "registrar"
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_tokens(["viewer:tok"])[0].digest = b""


def test_a_refusal_names_the_roles_the_operation_admits():
    for ep, actor, allowed in (
        (
            endpoint(role=("auditor", "viewer"), scoped=("service",)),
            Actor("registrar", ""),
            ["auditor", "viewer", "service/<service_id>"],
        ),
        (
            JsonHttp("GET", "/services"),
            Actor("service", "s-1"),
            ["registrar", "funding_officer", "distribution_officer", "auditor", "viewer"],
        ),
        (JsonHttp("POST", "/programmes", role="funding_officer"), Actor("viewer", ""), ["funding_officer"]),
    ):
        with pytest.raises(Forbidden) as err:
            ep._authorise(actor, {})
        assert err.value.details["allowed_roles"] == allowed


def test_an_operation_answers_200_unless_it_says_otherwise():
    assert JsonHttp("GET", "/services").status == 200
    assert JsonHttp("POST", "/services", role="registrar", status=201).status == 201


def test_an_oidc_actor_is_recorded_with_its_subject_and_never_past_200_characters():
    assert str(Actor("registrar", "", "marie@https://sso.example/realms/spc")) == "registrar marie@https://sso.example/realms/spc"
    assert (
        str(Actor("counter_agent", "FS-1+FS-2", "agent-7@https://sso.example"))
        == "counter_agent/FS-1+FS-2 agent-7@https://sso.example"
    )
    assert str(Actor("auditor", "")) == "auditor"
    assert len(str(Actor("auditor", "", "s" * 300))) == 200


def test_a_token_of_the_file_is_never_sent_to_the_identity_provider_and_a_non_jwt_never_is():
    class Issuer:  # records what it was asked (the real issuer's checks: tests/integration/test_oidc.py)
        asked = []
        accepts = staticmethod(OidcVerifier.accepts)  # the real one's: a JWT's shape

        def authenticate(self, token):
            self.asked.append(token)
            return Actor("auditor", "", "paul@idp")

    auth = TokenAuth(parse_tokens(["viewer:file-token-0123"]), Issuer())
    assert auth.authenticate("Bearer file-token-0123").role == "viewer"
    with pytest.raises(Unauthorized):
        auth.authenticate("Bearer not-a-jwt")
    assert str(auth.authenticate("Bearer aaaaaaaa.bbbbbbbbbb.cccccccccc")) == "auditor paul@idp"
    assert Issuer.asked == ["aaaaaaaa.bbbbbbbbbb.cccccccccc"]
    with pytest.raises(Unauthorized):  # without an issuer configured, a JWT is just an unknown token
        TokenAuth(parse_tokens(["viewer:file-token-0123"])).authenticate("Bearer aaaaaaaa.bbbbbbbbbb.cccccccccc")


def test_staff_operations_take_json_only_and_a_form_only_where_declared():
    """A form needs no CORS preflight, so a page elsewhere could post one with a staff member's
    browser: only an operation that declares it (DS's webhook, public) reads a form."""
    from types import SimpleNamespace

    from marshmallow import Schema, fields
    from werkzeug.test import EnvironBuilder

    from spc.shared.web.http import NotJson

    class Body(Schema):
        dossier_id = fields.Integer(required=True)

    request = EnvironBuilder(method="POST", data="dossier_id=7", content_type="application/x-www-form-urlencoded").get_request()
    staff, webhook = JsonHttp("POST", "/x", role="registrar", body=Body), JsonHttp("POST", "/y", body=Body, form=True)
    for ep in (staff, webhook):
        ep.tokens = SimpleNamespace(max_body=1000)
    with pytest.raises(NotJson):
        staff._body(request)
    assert webhook._body(request) == {"dossier_id": 7}


def test_the_person_is_the_oidc_subject_else_the_label_else_the_role():
    """Two-person rules compare people, not tokens (services/funding/domain/approvals.py)."""
    assert Actor("funding_officer", "laptop", "u-42@https://idp.example").person == "u-42@https://idp.example"
    assert Actor("funding_officer", "alice").person == Actor("auditor", "alice").person == "alice"
    assert Actor("funding_officer", "").person == "funding_officer"
    assert Actor("funding_officer", "alice").person != Actor("funding_officer", "bob").person
