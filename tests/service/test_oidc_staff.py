"""Staff logged in through an OpenID Connect provider (tests/oidc_provider.py, a real issuer over
HTTP): SPC configured with SPC_OIDC_ISSUER, SPC_OIDC_AUDIENCE and a roles file takes their access
tokens beside the tokens file, acts on what their role admits, and attributes each action to the
token's subject and issuer, in the resource's history and in the events."""

import pytest

from tests.oidc_provider import AUDIENCE, ROLES_FILE, Provider
from tests.support import PACT, TOKENS, Api, EventTap, wait_for


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


def test_an_oidc_registrar_acts_and_is_attributed_and_a_counter_agent_is_confined(provider, cluster_factory, amqp_uri, tmp_path):
    roles = tmp_path / "oidc-roles.toml"
    roles.write_text(ROLES_FILE)
    _, spc = cluster_factory(
        names=("registry", "distribution"),
        SPC_OIDC_ISSUER=provider.issuer,
        SPC_OIDC_AUDIENCE=AUDIENCE,
        SPC_OIDC_ROLES_FILE=str(roles),
    )
    tap = EventTap(amqp_uri)
    staff = Api(
        spc.ports,
        {
            "registrar": provider.token(sub="marie"),
            "auditor": provider.token(sub="paul", groups=["spc-auditors"]),
            "counter_agent": provider.token(sub="agent-7", groups=["france-services-agents"], spc_counters=["FS-35-0042"]),
            "stranger": provider.token(sub="x", groups=["someone-else"]),
            "other_audience": provider.token(aud="another-app"),
            "file": TOKENS["registrar"],
        },
    )
    service = staff.ok("POST", "registry", "/services", "registrar", PACT)
    who = f"registrar marie@{provider.issuer}"
    assert [h["by"] for h in service["history"]] == [who]
    submitted = wait_for("the event", lambda: tap.collect() and tap.of_type("registry.service_submitted"))
    assert submitted[0]["actor"] == who
    assert staff.call("POST", "registry", f"/services/{service['id']}/approve", "auditor").status_code == 403
    assert staff.call("GET", "registry", "/services", "stranger").status_code == 401
    assert staff.call("GET", "registry", "/services", "other_audience").status_code == 401
    assert staff.call("GET", "registry", "/services", "file").status_code == 200  # the file still works
    # a France Services agent: its own counter only
    assert staff.call("GET", "distribution", "/counters/FS-29-0001/catalogue", "counter_agent").status_code == 403
    own = staff.call("GET", "distribution", "/counters/FS-35-0042/catalogue", "counter_agent")
    assert own.status_code == 404 and own.json()["error"]["code"] == "not_found"  # let in; no such counter here
