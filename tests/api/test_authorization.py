"""The authorisation matrix: every operation of openapi.yaml on every service × (no token, an
unknown token, each role, scoped tokens outside their scope) is answered as the contract says —
the expected roles come from the hand-written table of contract §4 (contract_roles.py), never
from the document's generated `x-spc-role` (public: no token needed; `any`: every staff role;
else that role only: 401 without a valid token, 403 with another role or outside a scoped
token's ids), and a refused
request changes nothing: every table of the four PostgreSQL databases and what `spc.events`
carries are the same before and after."""

import pytest
from sqlalchemy import inspect, text

from spc.shared.sql.persistence import make_engine

from tests.support import TOKENS, EventTap

from . import contract_roles
from .document import ROLES, operations
from .story import replay

SCOPED_ELSEWHERE = ("counter_agent", "service")  # tokens scoped to ids that are not the story's
CALLERS = (None, "unknown", *ROLES, *SCOPED_ELSEWHERE)


def snapshot(db_urls):
    """Every row of every table of every service, as text."""
    rows = {}
    for service, url in db_urls.items():
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                for table in inspect(conn).get_table_names():
                    rows[(service, table)] = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"')))
        finally:
            engine.dispose()
    return rows


def call(api, op, caller, ids, body):
    headers = {} if caller is None else {"Authorization": "Bearer " + TOKENS.get(caller, "not-a-token")}
    import requests

    return requests.request(
        op.method, f"http://127.0.0.1:{api.ports[op.service]}{op.url_path(**ids)}", json=body, headers=headers, timeout=30
    )


def expected(op, caller):
    if contract_roles.role_of(op.method, op.path) == contract_roles.PUBLIC:
        return {200} if op.method == "GET" else None  # a public write (DS's webhook): no token asked
    if caller in (None, "unknown"):
        return {401}
    if caller in SCOPED_ELSEWHERE:
        return {403}  # outside its scope, even where the operation admits its role
    return None if contract_roles.allows(op.method, op.path, caller) else {403}  # allowed: anything but 401/403


@pytest.mark.timeout(600)
def test_every_operation_by_every_caller_is_answered_as_documented_and_refusals_change_nothing(spc_pg, amqp_uri):
    api, db_urls = spc_pg
    _, ids = replay(api, amqp_uri)
    tap = EventTap(amqp_uri)
    tap.drain(quiet=1.5)  # the story's last events are through; nothing moves any more
    tap.events.clear()
    before = snapshot(db_urls)
    assert sum(map(len, before.values())) > 20, "the story left rows to compare"
    refused = 0
    for op in operations():
        body = op.op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
        for caller in CALLERS:
            want = expected(op, caller)
            if want is None and op.method != "GET":
                continue  # an allowed write changes things: tests/api/test_examples.py makes each
            response = call(api, op, caller, ids, body)
            if want is None:
                assert response.status_code not in (401, 403), (op, caller, response.text)
                continue
            assert response.status_code in want, (op, caller, response.status_code, response.text)
            op.check_answer(response)
            if response.status_code in (401, 403):
                assert response.json()["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[response.status_code]
                refused += 1
    assert refused >= 120  # every staff operation × 2 without a valid token and × 2 scoped elsewhere, role-bound × 4 other roles
    assert tap.drain(quiet=1.0) == [], "a refused request published an event"
    assert snapshot(db_urls) == before, "a refused request changed a database"
