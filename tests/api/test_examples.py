"""Each operation's example in openapi.yaml is a request that works: replayed in the order of the
story they tell, each is answered with the documented success and a body that fits the documented
schema (on PostgreSQL and the real broker)."""
from .document import operations
from .story import STORY, replay


def test_every_example_request_works_as_documented(spc_pg, amqp_uri):
    api, _ = spc_pg
    answers, ids = replay(api, amqp_uri)
    assert answers[("registry", "POST", "/services")].headers["Location"] == f"/services/{ids['service_id']}"
    assert answers[("registry", "POST", "/services/{service_id}/revoke")].json()["status"] == "revoked"
    assert answers[("audit", "GET", "/journal/verify")].json()["ok"] is True
    # the operations every service has, on each
    for op in operations():
        if op.key not in STORY:
            response = api.call(op.method, op.service, op.path, role="viewer")
            assert response.status_code == op.success, (op, response.text)
            op.check_answer(response)
    documented_writes = {op.key for op in operations() if op.method == "POST"}
    assert documented_writes <= set(STORY), documented_writes - set(STORY)
    assert {op.key for op in operations() if "{" in op.path} <= set(STORY)
