"""openapi.yaml is a valid OpenAPI 3.1 document, and exactly what the code generates: every
route of every service, with its role, body and query schemas."""

import re
from pathlib import Path

import yaml
from openapi_spec_validator import validate

from spc.generate.openapi import operations, render

DOC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
DOC = yaml.safe_load(DOC_PATH.read_text())


def test_the_document_is_valid_openapi_3_1():
    validate(DOC)


def test_the_committed_document_is_what_the_code_generates():
    assert DOC_PATH.read_text() == render(), "openapi.yaml is stale: run `spc openapi > openapi.yaml`"


def test_every_route_is_documented_with_its_role():
    documented = {(path, method) for path, item in DOC["paths"].items() for method in item if method != "servers"}
    in_code = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", ep.url), ep.method.lower()) for _, _, ep in operations()}
    assert documented == in_code
    roles = {op["x-spc-role"] for item in DOC["paths"].values() for m, op in item.items() if m != "servers"}
    assert roles == {"public", "any", "registrar", "funding_officer", "distribution_officer", "auditor"}


def test_the_contract_minimum_endpoints_are_there():
    for path, method in [
        ("/services", "post"),
        ("/services/{service_id}/approve", "post"),
        ("/services/{service_id}/revoke", "post"),
        ("/services/{service_id}", "get"),
        ("/services", "get"),
        ("/programmes", "post"),
        ("/grants", "post"),
        ("/tranches/{tranche_id}/release", "post"),
        ("/services/{service_id}/funding", "get"),
        ("/counters", "get"),
        ("/counters/{counter_id}/catalogue", "get"),
        ("/services/{service_id}/listings", "get"),
        ("/findings", "post"),
        ("/services/{service_id}/findings", "get"),
        ("/findings/{finding_id}/resolve", "post"),
        ("/journal/verify", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
    ]:
        assert method in DOC["paths"][path], (method, path)


def _valid(component, body):
    """Whether `body` is valid by openapi.yaml's component schema (its $refs resolved in the document)."""
    from jsonschema import Draft202012Validator
    from spc.generate.openapi import document

    doc = document()
    return Draft202012Validator({"$ref": f"#/components/schemas/{component}", "components": doc["components"]}).is_valid(body)


def test_the_schema_states_the_rules_spc_enforces_so_a_valid_request_is_never_refused_for_them():
    """What schemathesis found (issue 28): requests valid by the document that SPC refused."""
    assert _valid("FunderIn", {"name": "CAF", "siret": "21350238800019"})
    assert _valid("FunderIn", {"name": "CAF", "siren": "213502388", "siret": None})
    assert not _valid("FunderIn", {"name": "CAF", "siret": "21350238800019", "siren": "213502388"})
    assert not _valid("FunderIn", {"name": "CAF"})
    assert not _valid("FunderIn", {"name": "CAF\u0000", "siren": "213502388"})  # text without U+0000
    pact = {
        "name": "Crèche",
        "mission": "m",
        "territories": {"departments": ["35"]},
        "commitments": ["equality"],
        "contact_email": "bureau@lutins.example.org",
    }
    assert not _valid("RegisterServiceIn", dict(pact, legal_form="company"))
    assert not _valid("RegisterServiceIn", dict(pact, legal_form="scic", siren="732829320", rna="W123456789"))
    assert _valid("RegisterServiceIn", dict(pact, legal_form="scic", siren="732829320"))
    assert _valid("RegisterServiceIn", dict(pact, legal_form="association", rna="W123456789"))
    assert not _valid("RegisterServiceIn", dict(pact, legal_form="association"))
    assert not _valid(
        "RegisterServiceIn",
        dict(pact, legal_form="informal_collective", siren="732829320", referent={"name": "A", "email": "a@b.fr"}),
    )
    assert not _valid("RegisterServiceIn", dict(pact, legal_form="informal_collective"))
