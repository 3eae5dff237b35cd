"""The event catalogue: each event type declared once, with everything that depends on it.

An entry holds the versioned marshmallow payload schema (producers dump with it, consumers load
with it), the domain event it is made from (outbound: one `@domain_event` dataclass, whose fields
carry their wire form, declares both the event an aggregate records and its payload schema), the
description and example that asyncapi.yaml publishes, the direction (inbound:
other systems publish it to `spc.inbound`; outbound: an SPC service publishes it to
`spc.events`), the SPC queues it is routed to (shared/messaging/topology.py binds exactly those, each
service's handler table must handle exactly those), and the external systems allowed to publish
(inbound) or read (outbound) it (deploy/rabbitmq/definitions.json is generated from this).
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar, dataclass_transform, overload

from marshmallow import EXCLUDE, Schema, fields, validate

from ..geography import COMMUNE_CODE, CONTRACT_DEPARTMENT_SHAPE

S = TypeVar("S", bound=type)
T = TypeVar("T")

PRINCIPLES = (
    "continuity",
    "equality",
    "neutrality",
    "adaptability",
    "transparency",
    "data_protection",
    "no_ad_monetisation",
    "governance",
)
SEVERITIES = ("minor", "major", "critical")
REPORT_CATEGORIES = ("unavailable", "refused_access", "advertising", "data_misuse", "other")
SERVICE_STATUSES = ("submitted", "active", "suspended", "revoked", "expired")
# A France Services counter's format, as the ANCT directory's `format_fs` (anct_csv.ANCT_FORMATS):
# the first two are fixed sites; the others may be based outside the département they serve.
COUNTER_FORMATS = ("fixe", "fixe_antennes", "multisites", "bus", "itinerante")
FIXED_FORMATS = ("fixe", "fixe_antennes")
COUNTER_TYPES = ("principal", "antenne")  # the ANCT directory's `type_fs`
OPENING_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


INBOUND_EXCHANGE, EVENTS_EXCHANGE = "spc.inbound", "spc.events"  # (shared/messaging/topology.py declares them)
# SPC's services: each produces the outbound types named after it (`funding.tranche_released`:
# funding), and its broker user may publish those only (spc/generate/definitions.py).
SERVICES = ("registry", "funding", "distribution", "audit")


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: Schema
    inbound: bool
    description: str
    example: dict[str, Any]
    queues: tuple[str, ...] = ()  # SPC consumer queues it is routed to (besides the journal)
    publishers: tuple[str, ...] = ()  # inbound: the external systems (broker users) that may publish it
    readers: tuple[str, ...] = field(default=())  # outbound: the external systems that may bind a queue to it
    relayed_by: tuple[str, ...] = ()  # inbound: the SPC services that may relay it (their producer name)
    declaration: type | None = None  # outbound: the domain event (a @domain_event dataclass)

    @property
    def exchange_name(self) -> str:
        return INBOUND_EXCHANGE if self.inbound else EVENTS_EXCHANGE

    @property
    def producer(self) -> str | None:
        """The SPC service that produces an outbound type (the first part of its name); None for
        an inbound type, which outside systems publish."""
        return None if self.inbound else self.name.split(".", 1)[0]

    def refuses_producer(self, producer: str) -> str | None:
        """Why an event of this type may not come from `producer` (None when it may): an outbound
        type comes from its service only; an inbound one never claims to come from an SPC
        service, unless that service relays it."""
        if self.producer is not None and producer != self.producer:
            return f"{self.name} is produced by {self.producer}, not {producer!r}"
        if self.inbound and producer in SERVICES and producer not in self.relayed_by:
            return f"{producer} does not relay {self.name}"
        return None


_CATALOGUE: dict[tuple[str, int], EventType] = {}


@overload
def wire(spec: fields.Field[Any], *, default: T) -> T: ...
@overload
def wire(spec: fields.Field[Any], *, default_factory: Callable[[], T]) -> T: ...
@overload
def wire(spec: fields.Field[Any]) -> Any: ...
def wire(spec: fields.Field[Any], *, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING) -> Any:
    """A field of a `@domain_event` with its wire form, the marshmallow field `spec` (validators,
    description, load_default...): `amount_cents: int = wire(fields.Integer(required=True, strict=True))`.
    A `default` (or `default_factory`) is the domain's, and must be the wire's `load_default`."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"wire": spec})


@dataclass_transform(kw_only_default=True, field_specifiers=(wire,))
def domain_event(cls: S) -> S:
    """Class decorator: `cls` is a domain event, a dataclass built by keyword, whose `wire(...)`
    fields are its payload, in their order (a field without `wire`, a family's `change`, is not
    on the wire). `@event` makes its payload schema from it."""
    dataclasses.dataclass(kw_only=True)(cls)
    return cls


# the names a declared field of a schema may not take (a Schema's own attributes): such a field
# is declared as `<name>_`, its wire field saying `data_key="<name>", attribute="<name>"`
_SCHEMA_NAMES = frozenset(dir(Schema)) | frozenset(vars(Schema()))


def payload_of(declaration: Any, name: str) -> type[Schema]:
    """The payload schema of event type `name`, made from the `@domain_event` `declaration`: its
    `wire` fields, in their order; each default checked against the wire's."""
    declared: dict[str, Any] = {}
    for f in dataclasses.fields(declaration):
        spec = f.metadata.get("wire")
        if spec is None:
            continue
        where = f"{declaration.__name__}.{f.name}"
        if f.default_factory is not dataclasses.MISSING:
            agrees = f.default_factory is spec.load_default
        elif f.default is not dataclasses.MISSING:
            agrees = f.default == spec.load_default and not callable(spec.load_default)
        else:
            agrees = True  # no default: the domain always says it
        if not agrees or (spec.required and (f.default, f.default_factory) != (dataclasses.MISSING,) * 2):
            raise TypeError(f"{where}: its default is not the wire's load_default")
        key = f.name
        if key in _SCHEMA_NAMES:
            if (spec.data_key, spec.attribute) != (f.name, f.name):
                raise TypeError(f"{where}: a Schema's own name; its wire field needs data_key and attribute")
            key += "_"
        declared[key] = spec
    title = "".join(part.title() for part in name.split(".", 1)[1].split("_"))
    schema: type[Schema] = type(title, (Payload,), {"__module__": declaration.__module__, **declared})
    return schema


def event(
    name: str,
    *,
    description: str,
    example: dict[str, Any],
    queues: Iterable[str] = (),
    publishers: Iterable[str] = (),
    readers: Iterable[str] = (),
    inbound: bool = False,
    version: int = 1,
    relayed_by: Iterable[str] = (),
) -> Callable[[S], S]:
    """Class decorator: `cls` is the payload schema of event type `name` at `version`, or (an
    outbound type) the `@domain_event` its payload schema is made from. A domain event declaring
    `event_type: ClassVar[str]` without a value gets `name`; a family's (several types, one
    dataclass) says its own."""

    def wrap(cls: S) -> S:
        if (name, version) in _CATALOGUE:
            raise ValueError(f"{name} v{version} is declared twice")
        declaration: Any = None if issubclass(cls, Schema) else cls
        if declaration is not None:
            if inbound:
                raise ValueError(f"{name}: an inbound type has no domain event, only its schema")
            if getattr(declaration, "event_type", None) is None:
                declaration.event_type = name
            elif isinstance(declaration.event_type, str) and declaration.event_type != name:
                raise ValueError(f"{declaration.__name__} is {declaration.event_type}, not {name}")
        schema = cls if declaration is None else payload_of(declaration, name)
        _CATALOGUE[(name, version)] = EventType(
            name,
            version,
            schema(),
            inbound,
            description,
            example,
            tuple(queues),
            tuple(publishers),
            tuple(readers),
            tuple(relayed_by),
            declaration,
        )
        return cls

    return wrap


def event_types() -> list[EventType]:
    """Every declared (event type, version), sorted."""
    return [_CATALOGUE[key] for key in sorted(_CATALOGUE)]


def personal_fields(event_type: str, version: int = 1) -> tuple[str, ...]:
    """The payload fields of `event_type` that may hold personal data (`metadata={"personal":
    True}`): a citizen's report text. Known to be kept out of what operators list."""
    entry = _CATALOGUE.get((event_type, version))
    if entry is None:
        return ()
    return tuple(name for name, f in entry.schema.fields.items() if f.metadata.get("personal"))


def redacted(doc: Any) -> Any:
    """An envelope document (a dict) with its personal payload fields replaced by how long they
    were; anything else unchanged (a copy)."""
    if not isinstance(doc, dict) or "payload" not in doc:
        return doc
    payload, version = doc["payload"], doc.get("schema_version", 1)
    if not isinstance(payload, dict):  # not an object: nothing can be told of it
        return dict(doc, payload=f"[redacted: {type(payload).__name__}]")
    key = (doc.get("event_type"), version)
    if key in _CATALOGUE:
        names = personal_fields(*key)
    else:  # a type or a version unknown here: every string of the payload is withheld, to be safe
        names = tuple(k for k, v in payload.items() if isinstance(v, str))
    return dict(
        doc,
        payload={k: (f"[redacted: {len(v)} characters]" if k in names and isinstance(v, str) else v) for k, v in payload.items()},
    )


def producer_of(event_type: str) -> str | None:
    """The SPC service that produces `event_type`, None if no SPC service does (inbound, unknown)."""
    return next((e.producer for e in event_types() if e.name == event_type and e.producer), None)


def entry(event_type: str, version: int = 1) -> EventType:
    return _CATALOGUE[(event_type, version)]


def payload_schema(event_type: str, version: int = 1) -> Schema:
    return _CATALOGUE[(event_type, version)].schema


def known_event_type(event_type: str) -> bool:
    return any(name == event_type for name, _ in _CATALOGUE)


def is_inbound(event_type: str) -> bool:
    return any(e.inbound for e in event_types() if e.name == event_type)


def all_schemas() -> dict[tuple[str, int], Schema]:
    return {key: entry.schema for key, entry in _CATALOGUE.items()}


def routed_to(queue_name: str) -> list[str]:
    """The event types routed to an SPC queue, sorted."""
    return sorted({e.name for e in event_types() if queue_name in e.queues})


class Payload(Schema):
    """Base of every payload schema: a tolerant reader. Fields this version does not know are
    ignored, so a producer may add an optional field without breaking any consumer
    (docs/integrating.md, "Versions")."""

    class Meta:
        unknown = EXCLUDE


def ServiceId(**kw: Any) -> fields.String:
    return fields.String(validate=validate.Length(1, 64), **kw)


Id = ServiceId


def Insee(**kw: Any) -> fields.String:
    """An INSEE commune code (COG): five digits, or 2A/2B and three digits for Corsica."""
    return fields.String(
        validate=validate.Regexp(COMMUNE_CODE), metadata={"description": "INSEE commune code: 5 digits, Corsica 2A…/2B…"}, **kw
    )


def Department(**kw: Any) -> fields.String:
    """A department code's shape in the public contract (two digits, 2A/2B, 97x/98x), looser than
    geography.DEPARTMENT_CODE: a code of that shape the COG does not know is refused naming it
    (distribution's Geography.check_place), as contract 1.0 promised."""
    return fields.String(
        validate=validate.Regexp(CONTRACT_DEPARTMENT_SHAPE),
        metadata={"description": "department code: 2 digits, 2A/2B, 97x/98x overseas"},
        **kw,
    )
