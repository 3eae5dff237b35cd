"""openapi.yaml as its readers use it: each operation with its owner, role, success status and
schemas; answers validated against the document's own schemas."""

from pathlib import Path

import jsonschema
import yaml

DOC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
PORTS = {8001: "registry", 8002: "funding", 8003: "distribution", 8004: "audit"}
ROLES = ("registrar", "funding_officer", "distribution_officer", "auditor", "viewer")


class Operation:
    def __init__(self, service, method, path, op):
        self.service, self.method, self.path, self.op = service, method, path, op
        self.role = op["x-spc-role"]
        self.success = next(int(s) for s in op["responses"] if s.startswith("2"))
        self.statuses = {int(s) for s in op["responses"]}

    def __repr__(self):
        return f"{self.method} {self.path} ({self.service})"

    @property
    def key(self):
        return (self.service, self.method, self.path)

    def allows(self, role):
        return self.role in ("public", "any") or role == self.role

    def url_path(self, **values):
        return self.path.format(**values)

    def check_answer(self, response):
        """The status is one the document lists for this operation and the body fits its schema."""
        status = str(response.status_code)
        assert status in self.op["responses"], f"{self}: {status} is not documented: {response.text[:300]}"
        content = self.op["responses"][status].get("content", {})
        if "application/json" in content:
            schema = dict(content["application/json"]["schema"], components=DOC["components"])
            jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)
        assert "Traceback" not in response.text, f"{self}: a traceback in the answer"


def operations():
    """Every operation, once per service that serves it (the shared ones on all four)."""
    for path, item in DOC["paths"].items():
        owners = [PORTS[int(s["url"].rsplit(":", 1)[1])] for s in item.get("servers", [])] or list(PORTS.values())
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                for owner in owners:
                    yield Operation(owner, method.upper(), path, op)
