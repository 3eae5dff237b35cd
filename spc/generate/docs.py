"""What `spc generate` writes into the prose: the table of inbound event types in
docs/integrating.md (from the event catalogue, between the markers below) and the request bodies
shown in the docs and kept in docs/examples/ (from spc/generate/examples.py, the bodies openapi.yaml
carries). tests/unit/test_generated.py fails when any is stale."""

import json
import re

from spc.shared.core import events

from .asyncapi import field_schema
from .examples import BODIES, request_example

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
    rows = ["| routing key | payload (required in **bold**) | what SPC does | who may publish |", "|---|---|---|---|"]
    for entry in events.event_types():
        if entry.inbound:
            payload = ", ".join(_field(n, f) for n, f in entry.schema.fields.items())
            rows.append(f"| `{entry.name}` | {payload} | {entry.description} | {', '.join(f'`{p}`' for p in entry.publishers)} |")
    return "\n".join(rows)


OUT_BEGIN, OUT_END = "<!-- outbound-events:begin (spc generate) -->", "<!-- outbound-events:end -->"


def outbound_list():
    """Every type SPC publishes on spc.events, by the service that publishes it."""
    by_service = {}
    for entry in events.event_types():
        if not entry.inbound:
            by_service.setdefault(entry.name.split(".")[0], []).append(f"`{entry.name}`")
    return "\n".join(f"- {service}: {', '.join(names)}" for service, names in by_service.items())


def with_outbound(text):
    """`text` (docs/integrating.md) with its generated list of outbound types replaced."""
    if OUT_BEGIN not in text:
        return text
    head, _, rest = text.partition(OUT_BEGIN)
    _, _, tail = rest.partition(OUT_END)
    return f"{head}{OUT_BEGIN}\n{outbound_list()}\n{OUT_END}{tail}"


def with_table(text):
    """`text` (docs/integrating.md) with its generated table replaced by the current one."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{inbound_table()}\n{END}{tail}"


# -- request bodies in the prose: the examples openapi.yaml carries (spc/generate/examples.py) ----------
# A block `<!-- example: SERVICE OPERATION (spc generate) -->` followed by a ```json fence gets the
# operation's example body; docs/examples/ holds the same bodies as files, for `curl -d @FILE`.
EXAMPLE = re.compile(r"(<!-- example: (\w+) (\w+) \(spc generate\) -->\n```json\n)(.*?)(^```)", re.S | re.M)
DOCS_WITH_EXAMPLES = ("README.md", "docs/pact.md", "docs/funding.md", "docs/audit.md", "docs/counter-agents.md")


def example_json(service, operation):
    body = request_example(service, operation)
    if body is None:
        raise KeyError(f"no example body for {service} {operation} in spc/generate/examples.py")
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def with_examples(text):
    """`text` with each marked example block replaced by the current example body."""
    return EXAMPLE.sub(lambda m: m.group(1) + example_json(m.group(2), m.group(3)) + m.group(5), text)


def example_files():
    """{path: (service, operation)}: every example body, as docs/examples/SERVICE-OPERATION.json."""
    return {f"docs/examples/{service}-{operation.replace('_', '-')}.json": (service, operation) for service, operation in BODIES}
