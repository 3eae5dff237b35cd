"""The services do what openapi.yaml says: each operation's role is enforced (401 without a
token, 403 with another role, nothing changes), and its declared body schema is the one checked."""

import re
from pathlib import Path

import yaml

from tests.support import TOKENS

DOC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
SERVICES = {8001: "registry", 8002: "funding", 8003: "distribution", 8004: "audit"}


def _operations():
    for path, item in DOC["paths"].items():
        owners = [SERVICES[int(s["url"].rsplit(":", 1)[1])] for s in item.get("servers", [])] or list(SERVICES.values())
        for method, op in item.items():
            if method != "servers":
                # each path parameter by its name (an id no resource has), an integer one by a number
                numbers = {
                    p["name"]
                    for p in op.get("parameters", [])
                    if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
                }
                filled = re.sub(r"\{(\w+)\}", lambda m, numbers=numbers: "1" if m.group(1) in numbers else m.group(1), path)
                for owner in owners:
                    yield owner, method.upper(), filled, op


def test_every_documented_role_is_enforced_and_every_body_schema_checked(spc):
    checked = 0
    for service, method, path, op in _operations():
        role = op["x-spc-role"]
        anonymous = spc.call(method, service, path, role=None, body={} if method == "POST" else None)
        if role == "public":  # (404: a public read of an id that does not exist, as `service_id` here)
            found = (200, 503, 404) if "parameters" in op and any(p["in"] == "path" for p in op["parameters"]) else (200, 503)
            if method == "POST":  # a public write (DS's webhook): its empty body is named
                found += (400,)
            assert anonymous.status_code in found, (service, method, path, anonymous.text)
            continue
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized", (
            service,
            method,
            path,
            anonymous.status_code,
        )
        if role == "any":
            allowed = spc.call(method, service, path, role="viewer")
            assert allowed.status_code not in (401, 403), (service, method, path, allowed.text)
        else:
            for other in TOKENS:
                if other != role:
                    refused = spc.call(method, service, path, role=other, body={})
                    assert refused.status_code == 403, (service, method, path, other, refused.status_code)
            body_ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body_ref:
                schema = DOC["components"]["schemas"][body_ref["$ref"].rsplit("/", 1)[1]]
                if schema.get("required"):
                    bad = spc.call(method, service, path, role=role, body={})
                    assert bad.status_code == 400, (service, path, bad.text)
                    assert set(bad.json()["error"]["details"]["fields"]) == set(schema["required"]), (path, bad.text)
        checked += 1
    assert checked >= 20
