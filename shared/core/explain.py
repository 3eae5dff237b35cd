"""Validation messages that say what was expected. marshmallow answers "Not a valid list." or
"Invalid input type." without saying a list of what, or which object: learning a body's shape from
its refusals is a guess (issue 26). `explain(schema, messages)` names it, from the schema itself:
"Not a valid list: a list of {principle, text}." A field may say it in its own words with
`metadata={"item": "..."}` (what each element of the list is)."""

from typing import Any

from marshmallow import Schema, fields

LIST_INVALID = fields.List.default_error_messages["invalid"]  # "Not a valid list."
# what a schema says of a value that is not an object ("Invalid input type."), and a Nested field
NESTED_INVALID = {Schema._default_error_messages["type"], fields.Nested.default_error_messages["type"]}
SIMPLE = {
    fields.String: "strings",
    fields.Integer: "integers",
    fields.Float: "numbers",
    fields.Boolean: "true or false",
    fields.Date: "dates (YYYY-MM-DD)",
    fields.DateTime: "date-times (ISO 8601)",
    fields.Dict: "objects",
    fields.UUID: "UUIDs",
}


def _schema(nested: fields.Nested) -> Schema:
    schema = nested.schema
    return schema if isinstance(schema, Schema) else schema()


def _names(nested: fields.Nested) -> str:
    return "{" + ", ".join(f.data_key or name for name, f in _schema(nested).fields.items() if not f.dump_only) + "}"


def item(field: fields.Field[Any]) -> str:
    """What one element of a list holds, in words."""
    said: str | None = field.metadata.get("item")
    if said:
        return said
    if isinstance(field, fields.Nested):
        return _names(field)
    if isinstance(field, fields.List):
        return f"lists of {item(field.inner)}"
    for kind, words in SIMPLE.items():
        if isinstance(field, kind):
            return words
    return "values"


def expected(field: fields.Field[Any]) -> str | None:
    if isinstance(field, fields.List):
        return f"a list of {item(field.inner)}"
    if isinstance(field, fields.Nested):
        return f"an object {_names(field)}"
    return None


def _reworded(field: fields.Field[Any], texts: list[Any]) -> list[Any]:
    said = expected(field)
    if said is None:
        return texts
    return [
        f"Not a valid list: {said}."
        if t == LIST_INVALID and isinstance(field, fields.List)
        else f"Not an object: {said} is expected."
        if t in NESTED_INVALID and isinstance(field, fields.Nested)
        else t
        for t in texts
    ]


def _explain_field(field: fields.Field[Any], found: Any) -> Any:
    if isinstance(found, list):
        return _reworded(field, found)
    if isinstance(found, dict):
        if isinstance(field, fields.Nested) and not field.many:
            explained = explain(_schema(field), found)
            if isinstance(explained.get("_schema"), list):  # the value given is not an object
                explained["_schema"] = _reworded(field, explained["_schema"])
            return explained
        if isinstance(field, fields.List):  # {index: the element's messages}
            return {i: _explain_field(field.inner, sub) for i, sub in found.items()}
        if isinstance(field, fields.Dict) and field.value_field is not None:  # {key: {"value": [...]}}
            return {
                k: dict(sub, value=_explain_field(field.value_field, sub["value"]))
                if isinstance(sub, dict) and "value" in sub
                else sub
                for k, sub in found.items()
            }
    return found


def explain(schema: Schema | type[Schema], messages: Any) -> Any:
    """`messages` (marshmallow's, for `schema`: a class or an instance) with each bare "Not a valid
    list." or "Invalid input type." saying what was expected; everything else as it was."""
    if not isinstance(messages, dict):
        return messages
    if not isinstance(schema, Schema):
        schema = schema()
    by_key = {f.data_key or name: f for name, f in schema.fields.items()}
    return {key: _explain_field(by_key[key], found) if key in by_key else found for key, found in messages.items()}
