"""The table of inbound event types in docs/integrating.md, generated from the event catalogue
(between the markers below) by `spc generate`; tests/unit/test_generated.py fails when stale."""
from spc.shared import events

from .asyncapi import field_schema

BEGIN, END = "<!-- inbound-events:begin (spc generate) -->", "<!-- inbound-events:end -->"


def _field(name, field):
    """One payload field, read from its JSON Schema (the one asyncapi.yaml publishes)."""
    schema = field_schema(field)
    text = f"**`{name}`**" if field.required else f"`{name}`"
    notes = []
    if "enum" in schema:
        notes.append(", ".join(f"`{c}`" for c in schema["enum"]))
    elif "maxLength" in schema:
        notes.append(f"{schema.get('minLength', 0)}–{schema['maxLength']}")
    if field.metadata.get("description"):
        notes.append(field.metadata["description"])
    if schema.get("format") == "uri":
        notes.append("`https://`")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def inbound_table():
    rows = ["| routing key | payload (required in **bold**) | what SPC does | who may publish |",
            "|---|---|---|---|"]
    for entry in events.event_types():
        if entry.inbound:
            payload = ", ".join(_field(n, f) for n, f in entry.schema.fields.items())
            rows.append(f"| `{entry.name}` | {payload} | {entry.description} | "
                        f"{', '.join(f'`{p}`' for p in entry.publishers)} |")
    return "\n".join(rows)


def with_table(text):
    """`text` (docs/integrating.md) with its generated table replaced by the current one."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{inbound_table()}\n{END}{tail}"
