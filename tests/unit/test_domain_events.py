"""An outbound event type and the domain event its aggregate records are one declaration
(shared/core/events/outbound.py): a `@domain_event` dataclass whose `wire(...)` fields make the payload
schema. What the domain builds is what the contract publishes."""

import dataclasses
from typing import Any, ClassVar

import pytest
from marshmallow import fields

from spc.shared.core import envelope, events
from spc.shared.core.events.catalogue import domain_event, payload_of, wire

OUTBOUND = [e for e in events.event_types() if not e.inbound]


def wire_fields(declaration):
    return [f for f in dataclasses.fields(declaration) if "wire" in f.metadata]


def test_every_outbound_type_but_the_reminders_is_a_domain_event():
    undeclared = sorted(e.name for e in OUTBOUND if e.declaration is None)
    assert undeclared == ["audit.reminder_due", "funding.reminder_due", "registry.reminder_due"]


@pytest.mark.parametrize("entry", [e for e in OUTBOUND if e.declaration], ids=lambda e: e.name)
def test_the_payload_schema_is_the_domain_events_wire_fields_in_their_order(entry):
    declared = wire_fields(entry.declaration)
    assert [f.metadata["wire"] for f in declared] == list(type(entry.schema)._declared_fields.values())
    assert [f.name for f in declared] == [f.data_key or name for name, f in entry.schema.fields.items()]


@pytest.mark.parametrize("entry", [e for e in OUTBOUND if e.declaration], ids=lambda e: e.name)
def test_the_domain_event_built_from_the_example_publishes_the_example(entry):
    """Its type named by its `change` (and a request's `action`) for a family; its payload, once
    through the unit of work's path (asdict, then new_event), the example's own."""
    family = {f.name: "" for f in dataclasses.fields(entry.declaration) if "wire" not in f.metadata}
    if "action" in family:
        family["action"], family["change"] = entry.name.removeprefix("funding.").rsplit("_", 1)
    elif "change" in family:
        family["change"] = (
            "pact_amended" if entry.name == "registry.pact_amended" else entry.name.removeprefix(entry.declaration.family)
        )
    recorded = entry.declaration(**family, **entry.example)
    assert recorded.event_type == entry.name
    published = envelope.new_event(recorded.event_type, dataclasses.asdict(recorded), entry.producer)
    assert list(published.payload.items()) == list(entry.schema.dump(entry.schema.load(entry.example)).items())


def test_a_default_must_be_the_wires_and_a_required_field_has_none():
    @domain_event
    class Odd:
        event_type: ClassVar[str]
        note: str | None = wire(fields.String(load_default=None, allow_none=True), default="")

    @domain_event
    class Required:
        event_type: ClassVar[str]
        seq: int = wire(fields.Integer(required=True), default=1)

    for declaration in (Odd, Required):
        with pytest.raises(TypeError, match="load_default"):
            payload_of(declaration, "test.odd")


def test_a_field_named_as_a_schemas_own_attribute_is_declared_with_its_wire_name():
    @domain_event
    class Checked:
        event_type: ClassVar[str]
        fields: dict[str, Any] = wire(fields.Dict(data_key="fields", attribute="fields", required=True))

    schema = payload_of(Checked, "test.checked")()
    assert list(schema.fields) == ["fields_"] and schema.dump({"fields": {"a": 1}}) == {"fields": {"a": 1}}

    @domain_event
    class Unsaid:
        event_type: ClassVar[str]
        fields: dict[str, Any] = wire(fields.Dict(required=True))

    with pytest.raises(TypeError, match="data_key"):
        payload_of(Unsaid, "test.unsaid")


def test_a_single_types_declaration_takes_its_name_from_event():
    assert events.outbound.TrancheReleased.event_type == "funding.tranche_released"
    with pytest.raises(ValueError, match="not funding.other"):
        events.catalogue.event("funding.other", description="", example={})(events.outbound.TrancheReleased)
