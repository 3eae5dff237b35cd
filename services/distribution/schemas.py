"""Distribution's HTTP query parameters."""
from marshmallow import Schema, fields, validate


class CounterQuery(Schema):
    department = fields.String(load_default=None, validate=validate.Length(2, 3))
    commune = fields.String(load_default=None, validate=validate.Length(5, 5))
    q = fields.String(load_default=None, validate=validate.Length(1, 100))
    include_closed = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
