"""Distribution's HTTP queries and answers."""

from marshmallow import Schema, fields, validate

from spc.shared.core.answers import Items, Records
from spc.shared.core.lists import ListShape, alias
from spc.shared.core.events import COUNTER_FORMATS, COUNTER_TYPES, OPENING_DAYS, PRINCIPLES, REPORT_CATEGORIES

LISTING_STATUSES = ("published", "withdrawn")


class CounterQuery(Schema):
    department = fields.String(validate=validate.Length(2, 3))
    commune = fields.String(validate=validate.Length(5, 5))
    q = fields.String(validate=validate.Length(1, 100))
    include_closed = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class CounterOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    commune_insee = fields.String(required=True)
    department = fields.String(required=True)
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    format = fields.String(
        required=True,
        validate=validate.OneOf(COUNTER_FORMATS),
        metadata={
            "description": "the ANCT directory's format; a counter not `fixe` or `fixe_antennes` may be "
            "based outside its département (added in 1.1)"
        },
    )
    open = fields.Boolean(required=True)
    type = fields.String(
        allow_none=True,
        validate=validate.OneOf(COUNTER_TYPES),
        metadata={"description": "`principal` or `antenne`; null: unknown (added in 1.1)"},
    )
    email = fields.String(allow_none=True, metadata={"description": "(added in 1.1; null: unknown)"})
    phone = fields.String(allow_none=True, metadata={"description": "(added in 1.1; null: unknown)"})
    hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(OPENING_DAYS)),
        values=fields.List(fields.String()),
        allow_none=True,
        metadata={
            "description": "opening hours by day, each day its slots `HH:MM-HH:MM`; a day not given is "
            "closed; null: unknown (added in 1.1)"
        },
    )
    note = fields.String(allow_none=True, metadata={"description": "the directory's remark for visitors (added in 1.1)"})


class CounterPage(Schema):
    items = fields.List(fields.Nested(CounterOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class ListedCommitment(Schema):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = fields.String(allow_none=True, metadata={"description": "the service's own text (null in a contract-v1 pact)"})


class ListedService(Schema):
    service_id = fields.String(required=True)
    name = fields.String(required=True)
    mission = fields.String(allow_none=True, metadata={"description": "(added in 1.1; null: not known yet)"})
    domains = Items(fields.String(), metadata={"description": "(added in 1.1)"})
    contact_email = fields.String(allow_none=True, metadata={"description": "(added in 1.1)"})
    referral = fields.String(
        allow_none=True, metadata={"description": "how an agent refers a person to the service (added in 1.1)"}
    )
    commitments = Records(
        ListedCommitment,
        metadata={"description": "what the service commits to under its pact, principle by principle (added in 1.1)"},
    )


class CatalogueOut(ListShape):
    counter = fields.Nested(CounterOut, required=True)
    items = fields.List(
        fields.Nested(ListedService), required=True, metadata={"description": "the services listed at the counter now"}
    )
    services = fields.List(fields.Nested(ListedService), required=True, metadata=alias("services"))


class RelayedReportIn(Schema):
    """A visitor's report, relayed by the counter's agent (the fields of usager.report_submitted;
    the counter is the path's)."""

    service_id = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "the service reported about (listed at the counter or not)"},
    )
    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))
    text = fields.String(
        required=True,
        validate=validate.Length(1, 5000),
        metadata={"description": "the visitor's words: personal data, sent to audit only (never logged, never on spc.events)"},
    )


class RelayedReportOut(Schema):
    event_id = fields.String(
        required=True, metadata={"description": "the usager.report_submitted event the report became (audit's reports name it)"}
    )
    counter_id = fields.String(required=True)
    service_id = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))


class ListingOut(Schema):
    counter_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATUSES))


class ListingsOut(ListShape):
    service_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the service's standing as distribution knows it"})
    items = fields.List(fields.Nested(ListingOut), required=True, metadata={"description": "by counter id"})
    listings = fields.List(
        fields.Nested(ListingOut),
        required=True,
        metadata={"description": "the same list as `items`, under contract v1's key (kept)"},
    )
