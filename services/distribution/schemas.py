"""Distribution's HTTP queries and answers."""
from marshmallow import Schema, fields, validate

from spc.shared.events import COUNTER_FORMATS

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
    format = fields.String(required=True, validate=validate.OneOf(COUNTER_FORMATS), metadata={
        "description": "the ANCT directory's format; a counter not `fixe` or `fixe_antennes` may be "
                       "based outside its département (added in 1.1)"})
    open = fields.Boolean(required=True)


class CounterPage(Schema):
    items = fields.List(fields.Nested(CounterOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class ListedService(Schema):
    service_id = fields.String(required=True)
    name = fields.String(required=True)


class CatalogueOut(Schema):
    counter = fields.Nested(CounterOut, required=True)
    services = fields.List(fields.Nested(ListedService), required=True)


class ListingOut(Schema):
    counter_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(LISTING_STATUSES))


class ListingsOut(Schema):
    service_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "the service's standing as "
                                                    "distribution knows it"})
    listings = fields.List(fields.Nested(ListingOut), required=True)
