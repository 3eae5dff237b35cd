"""Builds `asyncapi.yaml` (AsyncAPI 3.0) from the event catalogue (shared/core/events): one document,
written by `spc asyncapi`, committed at the repository root, and checked against the code by
tests/unit/test_asyncapi.py.

The payload schemas are converted from marshmallow here; descriptions and examples come from
each event's declaration. Every example is validated against the code's schema by the tests.
"""

from datetime import datetime, timedelta, timezone

from marshmallow import fields, validate

from spc.shared.core import envelope, events
from spc.shared.messaging import topology

VERSION = "1.2.0"  # 1.1: the pact; 1.2: agents, citizens' reports, the service's own voice (extensions only)
EXAMPLE_TIME = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=1)))


# ---- marshmallow -> JSON Schema ----------------------------------------------------------------
def field_schema(field):
    """The JSON Schema of one marshmallow field (the subset our event schemas use)."""
    if isinstance(field, fields.Nested):
        out = object_schema(field.schema)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, fields.Float):
        out = {"type": "number"}
    elif isinstance(field, fields.Url):
        out = {"type": "string", "format": "uri", "pattern": "^https://"}
    elif isinstance(field, fields.AwareDateTime):
        out = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.Date):
        out = {"type": "string", "format": "date"}
    elif isinstance(field, fields.UUID):
        out = {"type": "string", "format": "uuid"}
    elif isinstance(field, (fields.String, fields.Dict)):
        out = {"type": "object"} if isinstance(field, fields.Dict) else {"type": "string"}
    else:
        raise TypeError(f"no JSON Schema mapping for {type(field).__name__}")
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            out["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Length):
            if rule.min is not None:
                out["minLength"] = rule.min
            if rule.max is not None:
                out["maxLength"] = rule.max
        elif isinstance(rule, validate.Regexp):
            out["pattern"] = rule.regex.pattern
        elif isinstance(rule, validate.Range):
            if rule.min is not None:
                out["minimum"] = rule.min
            if rule.max is not None:
                out["maximum"] = rule.max
    if field.allow_none:
        out["type"] = [out["type"], "null"]
    description = field.metadata.get("description")
    if field.metadata.get("personal"):  # what SPC keeps out of what operators list (docs/security.md)
        description = ((description + " ") if description else "") + "Personal data: withheld from dead-letter listings."
    if description:
        out["description"] = description
    return out


def object_schema(schema):
    props = {name: field_schema(f) for name, f in schema.fields.items()}
    required = [name for name, f in schema.fields.items() if f.required]
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


def envelope_schema(event_type, version):
    env = object_schema(envelope.EnvelopeSchema())
    env["properties"]["event_type"] = {"type": "string", "const": event_type}
    env["properties"]["schema_version"] = {"type": "integer", "const": version}
    env["properties"]["payload"] = {"$ref": f"#/components/schemas/{event_type}.v{version}"}
    return env


# ---- the document ------------------------------------------------------------------------------
def _camel(event_type, action):
    return action + "".join(part.title() for part in event_type.replace(".", "_").split("_"))


def _amqp_channel(exchange):
    return {
        "amqp": {
            "is": "routingKey",
            "bindingVersion": "0.3.0",
            "exchange": {"name": exchange.name, "type": exchange.type, "durable": True, "autoDelete": False, "vhost": "spc"},
        }
    }


# W3C trace context in the message's headers (docs/operations.md, "Traces"; added in 1.3): optional
TRACE_HEADERS = {
    "type": "object",
    "properties": {
        "traceparent": {
            "type": "string",
            "maxLength": 512,
            "description": "W3C trace context (`00-<trace id>-<span id>-<flags>`): an inbound event's publisher may "
            "send its own, SPC's events carry the span that sent them when traces are on. A malformed "
            "one is ignored (a new trace), never refused.",
            "examples": ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
        },
        "tracestate": {"type": "string", "maxLength": 512, "description": "W3C trace state, with traceparent"},
    },
}


def document():
    channels, operations, messages, schemas = {}, {}, {}, {}
    for entry in events.event_types():
        event_type, version, schema, inbound = entry.name, entry.version, entry.schema, entry.inbound
        exchange = topology.INBOUND if inbound else topology.EVENTS
        key = f"{event_type}.v{version}"
        channel_id = f"{exchange.name}.{event_type}"
        schemas[key] = object_schema(schema)
        example = envelope.to_dict(
            envelope.Event(
                event_type,
                entry.example,
                "inspection-35" if inbound else event_type.split(".")[0],
                version,
                "3f1e0a52-5c1d-4a8e-9a57-2f4c1b6e8d90",
                EXAMPLE_TIME,
            )
        )
        messages[key] = {
            "name": event_type,
            "title": f"{event_type} (schema_version {version})",
            "summary": entry.description,
            "contentType": "application/json",
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "payload": envelope_schema(event_type, version),
            "headers": TRACE_HEADERS,
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type, "bindingVersion": "0.3.0"}},
            "examples": [{"name": f"{event_type}-example", "payload": example}],
            "x-spc-direction": "inbound" if inbound else "outbound",
        }
        channels.setdefault(
            channel_id,
            {
                "address": event_type,
                "title": f"{exchange.name}, routing key {event_type}",
                "description": entry.description,
                "messages": {},
                "bindings": _amqp_channel(exchange),
            },
        )["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        action = "receive" if inbound else "send"  # from SPC's side
        operations.setdefault(
            _camel(event_type, action),
            {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "summary": (
                    "Other systems publish, SPC consumes: " if inbound else "SPC publishes, anyone allowed may bind a queue: "
                )
                + event_type,
                "messages": [],
                "bindings": {"amqp": {"deliveryMode": 2, "ack": True, "bindingVersion": "0.3.0"}},
            },
        )["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{key}"})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Service Public Citoyen events",
            "version": VERSION,
            "description": (
                "The events other systems publish into SPC (exchange `spc.inbound`) and the events SPC "
                "publishes (exchange `spc.events`), both topic exchanges with routing key = `event_type`. "
                "Every message is the JSON envelope of the public contract §1, persistent, with AMQP "
                "properties `content_type=application/json`, `message_id=event_id`, `type=event_type`. "
                "Generated from the code by `spc asyncapi`; how to integrate: docs/integrating.md. "
                "1.1 (the pact, France Services agents): `registry.pact_amended`, `registry.service_expired`, "
                "`registry.amendment_proposed` / `_rejected`, status `expired`; in registry standings "
                "`territories.regions`, `territories.national`, `pact_version`, `commitments`, `amendment_id`, "
                "`mission`, `domains`, `contact_email`, `referral`; in `counter.upserted` optional `format`, "
                "`type`, `email`, `phone`, `hours`, `note`; `usager.report_submitted` may come from a "
                "counter's agent (producer `distribution`). 1.2 (citizens, the service's voice, traceable "
                "money and journal): `audit.report_triaged`, `audit.finding_answered`, "
                "`audit.remediation_reported`, `audit.finding_escalated`, `audit.journal_checkpoint`; "
                "`funder` and `legal_basis` in `funding.programme_opened`; `released_at`, `due_date`, "
                "`evidence`, `reason` in `funding.tranche_released`. Not only additions: since 1.1 a "
                "`counter.upserted` whose commune is not in INSEE's COG 2026, or (for a fixed counter) "
                "not in its `department`, is dead-lettered (`schema_error`) where 1.0 took it."
            ),
            "license": {"name": "EUPL-1.2"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "rabbitmq.spc.example.gouv.fr:5671",
                "protocol": "amqps",
                "protocolVersion": "0.9.1",
                "pathname": "/spc",
                "description": "RabbitMQ, vhost `spc`; each external system has its own user (deploy/rabbitmq/).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render():
    import yaml

    header = (
        "# Generated by `spc asyncapi > asyncapi.yaml` from the event catalogue (shared/core/events).\n"
        "# tests/unit/test_asyncapi.py fails when this file and the code disagree.\n"
    )
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
