"""Each operation's example in openapi.yaml is a request that works: replayed in the order of the
story they tell, each is answered with the documented success and a body that fits the documented
schema (on PostgreSQL and the real broker)."""

from .document import DOC, operations
from .story import STORY, replay


def _answer_schema(op):
    schema = op.op["responses"][str(op.success)].get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def check_list_shape(op, body):
    """Every list answers {items, total, limit, offset} (a whole list: limit null, offset 0), or
    by cursor {items, next} (/standings): openapi.yaml 1.3, shared/core/lists.py."""
    assert isinstance(body["items"], list), op
    if "next" in _answer_schema(op)["properties"]:
        return
    assert isinstance(body["total"], int) and isinstance(body["offset"], int), (op, body)
    if body["limit"] is None:
        assert (body["offset"], body["total"]) == (0, len(body["items"])), (op, body)
    else:
        assert len(body["items"]) <= body["limit"] and body["total"] >= body["offset"] + len(body["items"]), op
    for key in ("findings", "services", "listings"):  # the keys of before 1.3, kept beside items
        if key in body and isinstance(body[key], list):
            assert body[key] == body["items"], (op, key)


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
            answers[op.key] = response
    lists = [op for op in operations() if op.method == "GET" and "items" in _answer_schema(op).get("properties", {})]
    assert len(lists) >= 15, lists
    for op in lists:
        check_list_shape(op, answers[op.key].json())
    documented_writes = {op.key for op in operations() if op.method == "POST"}
    assert documented_writes <= set(STORY), documented_writes - set(STORY)
    assert {op.key for op in operations() if "{" in op.path} <= set(STORY)
