"""asyncapi.yaml and the code cannot drift: every schema the code uses is in the document and
vice versa, with the same fields, required-ness, enums and types; every example is accepted by
the code; the committed file is exactly what `spc asyncapi` generates."""

import json
from pathlib import Path

import pytest
import yaml
from marshmallow import fields, validate

from spc.generate.asyncapi import render
from spc.shared.core import envelope, events
from spc.shared.messaging import topology

DOC_PATH = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
DOC = yaml.safe_load(DOC_PATH.read_text())
MESSAGES = DOC["components"]["messages"]
SCHEMAS = DOC["components"]["schemas"]
CODE = events.all_schemas()

TYPES = [  # marshmallow field class -> JSON type, most specific first (independent of spc.generate.asyncapi)
    (fields.Nested, "object"),
    (fields.List, "array"),
    (fields.Boolean, "boolean"),
    (fields.Integer, "integer"),
    (fields.Float, "number"),
    (fields.String, "string"),
    (fields.Date, "string"),
    (fields.DateTime, "string"),
    (fields.Dict, "object"),
]


def json_type(field):
    return next(t for cls, t in TYPES if isinstance(field, cls))


def compare(schema, doc, path):
    """Every difference between a marshmallow schema and its JSON Schema in the document."""
    diffs = []
    props = doc.get("properties", {})
    if set(schema.fields) != set(props):
        diffs.append(f"{path}: fields {sorted(schema.fields)} vs {sorted(props)}")
    required = {n for n, f in schema.fields.items() if f.required}
    if required != set(doc.get("required", [])):
        diffs.append(f"{path}: required {sorted(required)} vs {sorted(doc.get('required', []))}")
    for name, field in schema.fields.items():
        if name not in props:
            continue
        prop, where = props[name], f"{path}.{name}"
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        if types[0] != json_type(field) or (("null" in types) != bool(field.allow_none)):
            diffs.append(f"{where}: type {types} for {type(field).__name__} allow_none={field.allow_none}")
        enums = [list(v.choices) for v in field.validators if isinstance(v, validate.OneOf)]
        if (enums[0] if enums else None) != prop.get("enum"):
            diffs.append(f"{where}: enum {enums} vs {prop.get('enum')}")
        if isinstance(field, fields.Nested):
            diffs += compare(field.schema, prop, where)
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            diffs += compare(field.inner.schema, prop["items"], where + "[]")
    return diffs


def test_every_schema_in_the_code_is_in_the_document_and_vice_versa():
    in_code = {f"{t}.v{v}" for t, v in CODE}
    assert set(MESSAGES) == in_code
    assert set(SCHEMAS) == in_code


@pytest.mark.parametrize("event_type,version", sorted(CODE))
def test_each_payload_has_the_same_fields_required_ness_enums_and_types(event_type, version):
    key = f"{event_type}.v{version}"
    assert compare(CODE[(event_type, version)], SCHEMAS[key], key) == []
    payload_ref = MESSAGES[key]["payload"]["properties"]["payload"]["$ref"]
    assert payload_ref == f"#/components/schemas/{key}"
    assert MESSAGES[key]["payload"]["properties"]["schema_version"]["const"] == version


def test_the_envelope_in_the_document_is_the_envelope_the_code_parses():
    for key, message in MESSAGES.items():
        doc = dict(
            message["payload"],
            properties={
                k: v for k, v in message["payload"]["properties"].items() if k not in ("payload", "event_type", "schema_version")
            },
        )
        code = envelope.EnvelopeSchema()
        code_fields = {n: f for n, f in code.fields.items() if n not in ("payload", "event_type", "schema_version")}
        assert set(doc["properties"]) == set(code_fields), key
        assert set(doc["required"]) == {n for n, f in code.fields.items() if f.required}, key


def test_each_event_is_on_its_exchange_with_its_routing_key():
    for channel in DOC["channels"].values():
        (ref,) = channel["messages"].values()
        key = ref["$ref"].rsplit("/", 1)[1]
        event_type = MESSAGES[key]["name"]
        exchange = channel["bindings"]["amqp"]["exchange"]["name"]
        assert channel["address"] == event_type
        assert exchange == ("spc.inbound" if events.is_inbound(event_type) else "spc.events")
        assert MESSAGES[key]["x-spc-direction"] == ("inbound" if events.is_inbound(event_type) else "outbound")


def test_every_inbound_type_is_bound_to_a_consumer_queue():
    bound = {b.routing_key for q in topology.CONSUMER_QUEUES for b in q.bindings if b.exchange.name == "spc.inbound"}
    assert {e.name for e in events.event_types() if e.inbound} <= bound


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_example_is_accepted_by_the_code(key):
    for example in MESSAGES[key]["examples"]:
        event = envelope.parse(json.dumps(example["payload"]).encode(), MESSAGES[key]["name"])
        assert event.event_type == MESSAGES[key]["name"]


def test_the_committed_document_is_what_the_code_generates():
    assert DOC_PATH.read_text() == render(), "asyncapi.yaml is stale: run `spc asyncapi > asyncapi.yaml`"
