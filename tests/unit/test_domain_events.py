"""A `@domain_event` dataclass whose `wire(...)` fields make an event type's payload schema
(shared/events/catalogue.py)."""
from typing import Any, ClassVar

import pytest
from marshmallow import fields

from spc.shared.events.catalogue import domain_event, payload_of, wire


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
