"""Builds `asyncapi.yaml` (AsyncAPI 3.0) from the code's own event schemas (shared/events.py)
and topology (shared/topology.py): one document, written by `spc asyncapi`, committed at the
repository root, and checked against the code by tests/unit/test_asyncapi.py.

The payload schemas are converted from marshmallow here; the descriptions and examples are the
documentation's own. Every example is validated against the code's schema by the tests.
"""
from datetime import datetime, timedelta, timezone

from marshmallow import fields, validate

from spc.shared import envelope, events, topology

VERSION = "1.0.0"
EXAMPLE_TIME = datetime(2026, 11, 25, 10, 0, tzinfo=timezone(timedelta(hours=1)))

DESCRIPTIONS = {
    "compliance.violation_reported": "An inspection body, a partner or a staff tool reports that a service breaches "
                                     "its pact. `major` and `critical` are violations: the service is suspended, "
                                     "its funding frozen and its listings withdrawn, automatically. `minor` opens "
                                     "a finding with a remediation deadline (30 days).",
    "usager.report_submitted": "A citizen's report about a service, recorded by audit for triage. A report "
                               "alone never suspends a service.",
    "counter.upserted": "A France Services counter opens or changes (national directory). Distribution "
                        "lists the active services covering its territory there.",
    "counter.closed": "A France Services counter closes; it loses its listings.",
    "registry.service_submitted": "A service was registered under its pact (status `submitted`).",
    "registry.service_approved": "A service was approved (status `active`).",
    "registry.service_suspended": "A service was suspended because of an open violation.",
    "registry.service_reinstated": "A suspended service was reinstated: no open violation is left.",
    "registry.service_revoked": "A service was revoked (final).",
    "funding.grant_awarded": "A grant was awarded to an active service, split into tranches.",
    "funding.tranche_released": "The payment order: a tranche was released. Published once per tranche, ever "
                                "(a consumer may still receive it twice: deduplicate on `event_id`).",
    "funding.funding_frozen": "The service was suspended: these unreleased tranches are frozen.",
    "funding.funding_unfrozen": "The service was reinstated: these tranches are scheduled again.",
    "distribution.listing_published": "The service is listed at these counters.",
    "distribution.listing_withdrawn": "The service is withdrawn from these counters.",
    "audit.finding_recorded": "Audit recorded a finding against a service.",
    "audit.violation_confirmed": "A violation is open against the service (`open_violations` after this "
                                 "decision; apply only when `audit_version` is newer than the last applied).",
    "audit.violation_resolved": "A violation was resolved (`open_violations` left after this decision).",
}

SID = "8dbe65f1-39af-445e-b4f6-0d5657d52ed0"
_SNAPSHOT = {"service_id": SID, "name": "Crèche parentale Les Lutins", "version": 3,
             "territories": {"departments": ["35"], "communes": []}, "reason": None}
EXAMPLES = {
    "compliance.violation_reported": {"service_id": SID, "principle": "no_ad_monetisation", "severity": "major",
                                      "summary": "Advertising sold on the parents' portal",
                                      "reported_by": "inspection-35",
                                      "evidence_url": "https://inspection.example.org/reports/2026-118"},
    "usager.report_submitted": {"service_id": SID, "category": "refused_access",
                                "text": "Registration refused without a reason.", "counter_id": "FS-35-0042"},
    "counter.upserted": {"counter_id": "FS-35-0042", "name": "France services Rennes Maurepas",
                         "commune_insee": "35238", "department": "35",
                         "address": "32 rue de la Marbaudais 35700 Rennes", "lat": 48.1287, "lon": -1.6573},
    "counter.closed": {"counter_id": "FS-35-0042"},
    "registry.service_submitted": dict(_SNAPSHOT, status="submitted", version=1),
    "registry.service_approved": dict(_SNAPSHOT, status="active", version=2),
    "registry.service_suspended": dict(_SNAPSHOT, status="suspended", version=3,
                                       reason="violation 5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11"),
    "registry.service_reinstated": dict(_SNAPSHOT, status="active", version=4,
                                        reason="resolved 5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11"),
    "registry.service_revoked": dict(_SNAPSHOT, status="revoked", version=5, reason="pact terminated"),
    "funding.grant_awarded": {"grant_id": "g-77", "programme_id": "p-2026-petite-enfance", "service_id": SID,
                              "total_cents": 250000, "tranches": [
                                  {"tranche_id": "t-1", "amount_cents": 100000, "due_date": "2026-01-01",
                                   "milestone": "opening"},
                                  {"tranche_id": "t-2", "amount_cents": 150000, "due_date": "2026-06-01",
                                   "milestone": "first term"}]},
    "funding.tranche_released": {"tranche_id": "t-1", "grant_id": "g-77", "service_id": SID,
                                 "amount_cents": 100000, "released_by": "funding_officer/dreets-bretagne"},
    "funding.funding_frozen": {"service_id": SID, "version": 3, "tranche_ids": ["t-2"]},
    "funding.funding_unfrozen": {"service_id": SID, "version": 4, "tranche_ids": ["t-2"]},
    "distribution.listing_published": {"service_id": SID, "counter_ids": ["FS-35-0042"],
                                       "reason": "service active (version 2)"},
    "distribution.listing_withdrawn": {"service_id": SID, "counter_ids": ["FS-35-0042"],
                                       "reason": "service suspended (version 3)"},
    "audit.finding_recorded": {"finding_id": "5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11", "service_id": SID,
                               "principle": "no_ad_monetisation", "severity": "major", "is_violation": True,
                               "remediation_deadline": None},
    "audit.violation_confirmed": {"finding_id": "5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11", "service_id": SID,
                                  "open_violations": 1, "audit_version": 1},
    "audit.violation_resolved": {"finding_id": "5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11", "service_id": SID,
                                 "open_violations": 0, "audit_version": 2},
}


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
    return {"amqp": {"is": "routingKey", "bindingVersion": "0.3.0",
                     "exchange": {"name": exchange.name, "type": exchange.type, "durable": True,
                                  "autoDelete": False, "vhost": "spc"}}}


def document():
    channels, operations, messages, schemas = {}, {}, {}, {}
    for (event_type, version), schema in sorted(events.all_schemas().items()):
        inbound = event_type in events.INBOUND
        exchange = topology.INBOUND if inbound else topology.EVENTS
        key = f"{event_type}.v{version}"
        channel_id = f"{exchange.name}.{event_type}"
        schemas[key] = object_schema(schema)
        example = envelope.to_dict(envelope.Event(
            event_type, EXAMPLES[event_type], "inspection-35" if inbound else event_type.split(".")[0],
            version, "3f1e0a52-5c1d-4a8e-9a57-2f4c1b6e8d90", EXAMPLE_TIME))
        messages[key] = {
            "name": event_type, "title": f"{event_type} (schema_version {version})",
            "summary": DESCRIPTIONS[event_type], "contentType": "application/json",
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "payload": envelope_schema(event_type, version),
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type,
                                  "bindingVersion": "0.3.0"}},
            "examples": [{"name": f"{event_type}-example", "payload": example}],
            "x-spc-direction": "inbound" if inbound else "outbound",
        }
        channels.setdefault(channel_id, {
            "address": event_type,
            "title": f"{exchange.name}, routing key {event_type}",
            "description": DESCRIPTIONS[event_type],
            "messages": {},
            "bindings": _amqp_channel(exchange),
        })["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        action = "receive" if inbound else "send"  # from SPC's side
        operations.setdefault(_camel(event_type, action), {
            "action": action, "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": ("Other systems publish, SPC consumes: " if inbound else
                        "SPC publishes, anyone allowed may bind a queue: ") + event_type,
            "messages": [],
            "bindings": {"amqp": {"deliveryMode": 2, "ack": True, "bindingVersion": "0.3.0"}},
        })["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{key}"})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Service Public Citoyen events", "version": VERSION,
            "description": (
                "The events other systems publish into SPC (exchange `spc.inbound`) and the events SPC "
                "publishes (exchange `spc.events`), both topic exchanges with routing key = `event_type`. "
                "Every message is the JSON envelope of the public contract §1, persistent, with AMQP "
                "properties `content_type=application/json`, `message_id=event_id`, `type=event_type`. "
                "Generated from the code by `spc asyncapi`; how to integrate: docs/integrating.md."),
            "license": {"name": "EUPL-1.2"},
        },
        "defaultContentType": "application/json",
        "servers": {"production": {
            "host": "rabbitmq.spc.example.gouv.fr:5671", "protocol": "amqps", "protocolVersion": "0.9.1",
            "pathname": "/spc",
            "description": "RabbitMQ, vhost `spc`; each external system has its own user (deploy/rabbitmq/)."}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render():
    import yaml
    header = ("# Generated by `spc asyncapi > asyncapi.yaml` from shared/events.py and shared/topology.py.\n"
              "# tests/unit/test_asyncapi.py fails when this file and the code disagree.\n")
    return header + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
