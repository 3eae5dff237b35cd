"""The event envelope of the public contract (§1): building, serialising and strict parsing."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Collection, Iterator

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from .dotted import leaves
from .errors import Rejection
from .explain import explain
from .events import entry, known_event_type, payload_schema

MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Event:
    event_type: str
    payload: dict[str, Any]
    producer: str
    schema_version: int = 1
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    correlation_id: str | None = None
    actor: str | None = None  # the staff member (role/label) whose request caused it, if any


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # envelope extensions from newer producers are ignored, never fatal

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]*\.[a-z][a-z_]*$"))
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(
        required=True,
        validate=validate.Length(1, 100),
        metadata={
            "description": "the publishing system. An SPC event (`registry.*`, `funding.*`, `distribution.*`, "
            "`audit.*`) comes from the service it is named after, and an inbound event never "
            "names an SPC service that does not relay it (`usager.report_submitted`: "
            "`distribution`): otherwise it is dead-lettered `wrong_producer`"
        },
    )
    correlation_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    actor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "SPC's own events: the staff member (`role/label` of the admin token) whose "
            "request caused the event, directly or down a chain of events; null otherwise"
        },
    )
    payload = fields.Dict(required=True)


_ENVELOPE = EnvelopeSchema()


def new_event(
    event_type: str,
    payload: dict[str, Any],
    producer: str,
    correlation_id: str | None = None,
    version: int = 1,
    actor: str | None = None,
    event_id: str | None = None,
) -> Event:
    """Build an outbound event; the payload is checked against its registered schema. `event_id`:
    the id its aggregate gave it when it was recorded (shared/core/domain.py), else a new one."""
    schema = payload_schema(event_type, version)
    clean = schema.dump(schema.load(payload))
    more: dict[str, Any] = {"event_id": event_id} if event_id is not None else {}
    return Event(event_type, clean, producer, version, correlation_id=correlation_id, actor=actor, **more)


def to_dict(event: Event) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "producer": event.producer,
        "correlation_id": event.correlation_id,
        "actor": event.actor,
        "payload": event.payload,
    }


def to_bytes(event: Event) -> bytes:
    return json.dumps(to_dict(event), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def first_error(messages: dict[Any, Any], prefix: str = "") -> tuple[str, str]:
    """The first of marshmallow's messages, with its dotted path (`payload.territories.0`)."""
    return next(_all_errors(messages, prefix))


def _all_errors(messages: dict[Any, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for path, value in leaves(messages, prefix):
        yield path, "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def schema_errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every schema error of an envelope document (`doc`, a dict) and of its payload, when its
    type and version are known: [(path, message)], [] when valid. Lists and objects given as
    something else say what they hold (shared/core/explain.py)."""
    errors: list[tuple[str, str]] = []
    try:
        env = _ENVELOPE.load(doc)
        etype, version = env["event_type"], env["schema_version"]
    except ValidationError as exc:
        errors = list(_all_errors(explain(EnvelopeSchema, exc.messages)))
        etype, version = doc.get("event_type"), doc.get("schema_version", 1)
    payload = doc.get("payload")
    if not isinstance(payload, dict):
        return errors
    try:
        schema = payload_schema(etype, version)
    except (KeyError, TypeError):
        return errors
    try:
        schema.load(payload)
    except ValidationError as exc:
        errors += list(_all_errors(explain(schema, exc.messages), "payload."))
    return errors


def parse(
    raw: bytes | bytearray | str | None, routing_key: str | None = None, accepted_types: Collection[str] | None = None
) -> Event:
    """Parse raw message bytes into a validated Event, or raise Rejection with a contract reason code."""
    if raw is None or len(raw) > MAX_MESSAGE_BYTES:
        raise Rejection("too_large", f"message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        doc = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejection("invalid_json", str(exc)[:200]) from None
    if not isinstance(doc, dict):
        raise Rejection("invalid_json", "the message body must be a JSON object")
    try:
        env = _ENVELOPE.load(doc)
    except ValidationError as exc:
        path, msg = first_error(explain(EnvelopeSchema, exc.messages))
        raise Rejection(f"schema_error:{path}", msg) from None
    etype, version = env["event_type"], env["schema_version"]
    if routing_key is not None and routing_key != etype:
        raise Rejection("schema_error:event_type", f"routing key {routing_key!r} differs from event_type")
    if not known_event_type(etype) or (accepted_types is not None and etype not in accepted_types):
        raise Rejection("unknown_event_type", f"{etype!r} is not an event this queue accepts")
    try:
        schema = payload_schema(etype, version)
    except KeyError:
        raise Rejection("unsupported_version", f"{etype} schema_version {version} is not supported") from None
    refused = entry(etype, version).refuses_producer(env["producer"])
    if refused:
        raise Rejection("wrong_producer", refused)
    try:
        payload = schema.load(env["payload"])
    except ValidationError as exc:
        path, msg = first_error(explain(schema, exc.messages))
        raise Rejection(f"schema_error:payload.{path}", msg) from None
    return Event(
        etype, payload, env["producer"], version, str(env["event_id"]), env["occurred_at"], env["correlation_id"], env["actor"]
    )
