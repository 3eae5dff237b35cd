"""Tokens and scoped roles (contract §4), with nothing running."""
import pytest

from spc.shared.auth import Actor, TokenAuth, parse_tokens
from spc.shared.errors import Forbidden
from spc.shared.http import JsonHttp


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


@pytest.mark.parametrize("actor,path,ok", [
    (Actor("service", "s-1"), {"service_id": "s-1"}, True),
    (Actor("service", "s-1"), {"service_id": "s-2"}, False),        # another service's
    (Actor("counter_agent", "s-1"), {"service_id": "s-1"}, False),  # not a role this operation admits
    (Actor("auditor", "x"), {"service_id": "s-2"}, True),
    (Actor("registrar", "x"), {"service_id": "s-2"}, False),        # a staff role not declared
])
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
