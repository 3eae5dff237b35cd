"""Property-based fuzzing of the admin API from openapi.yaml alone (schemathesis): for every
operation of the four services, on PostgreSQL and the real broker, requests generated from the
document (valid ones, with the operation's role; then invalid ones) are answered with no 5xx, no
status or body the document does not list, and no traceback. A few per operation here; the
documented run (docs/operations.md) asks for a few hundred:

    SPC_FUZZ_EXAMPLES=300 ./scripts/test tests/api/test_fuzz.py
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support import TOKENS

from .document import DOC, operations
from .story import replay

EXAMPLES = int(os.environ.get("SPC_FUZZ_EXAMPLES", "6"))
# rules no JSON Schema can state, said in the field's description: a schema-valid body may still
# be refused with a 400 naming the field
# headers that frame the HTTP message itself rather than the API request: a generated
# `Transfer-Encoding` beside the body's Content-Length is refused by the HTTP server before the
# application sees it (request smuggling protection), in plain text
FRAMING = {"transfer-encoding", "content-length", "connection", "host", "expect", "upgrade"}
BEYOND_THE_SCHEMA = {
    ("registry", "POST", "/services"): "the SIREN's Luhn check, COG codes, the pact's cross-field rules",
    ("registry", "POST", "/services/{service_id}/amendments"): "COG codes, the amended pact's rules",
    ("funding", "POST", "/programmes"): "the funder's SIRET or SIREN Luhn check, one of the two given",
}


def _no_traceback(ctx, response, case):
    assert "Traceback" not in response.text, "a traceback in the answer"


def _fuzz(api, op, mode, path_parameters=None):
    schema = schemathesis.openapi.from_dict(DOC)
    schema.config.generation.update(allow_x00=False, codec="utf-8")  # the document says so (400 otherwise)
    operation = schema[op.path][op.method]
    role = "viewer" if op.role in ("any", "public") else op.role
    base_url = f"http://127.0.0.1:{api.ports[op.service]}"
    seen = []
    excluded = [positive_data_acceptance] if op.key in BEYOND_THE_SCHEMA else []

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck))
    def run(case):
        # a query value that requests does not send (None, an empty list or object): schemathesis
        # would judge the answer to a request it believes invalid but that went out valid
        assume(not any(v is None or v == [] or v == {} for v in (case.query or {}).values()))
        for name in list(case.headers or {}):
            if name.lower() in FRAMING:  # HTTP's own framing: eventlet refuses contradictions (400, text)
                del case.headers[name]
        response = case.call_and_validate(
            base_url=base_url,
            headers={"Authorization": f"Bearer {TOKENS[role]}"},
            additional_checks=[_no_traceback],
            excluded_checks=excluded,
            timeout=30,
        )
        seen.append(response.status_code)

    try:
        run()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE, op  # nothing in the operation can be made invalid
    return seen


@pytest.mark.timeout(1800)
def test_generated_requests_get_documented_answers(spc_pg, amqp_uri):
    api, _ = spc_pg
    _, ids = replay(api, amqp_uri)  # real ids, so the generated requests reach past the 404s too
    statuses = {}
    for op in operations():
        if op.service != "registry" and op.path in ("/health/live", "/health/ready", "/metrics", "/standings"):
            continue  # the same code on every service: fuzzed once
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            statuses.setdefault(repr(op), []).extend(_fuzz(api, op, mode))
        if "{" in op.path:
            known = {k: v for k, v in ids.items() if "{" + k + "}" in op.path}
            statuses[repr(op)].extend(_fuzz(api, op, GenerationMode.POSITIVE, known))
    assert all(s < 500 for seen in statuses.values() for s in seen)
    print({op: sorted(set(seen)) for op, seen in statuses.items()})
