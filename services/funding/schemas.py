"""Funding's HTTP bodies. Money is integer cents: floats and strings are refused."""
from marshmallow import Schema, fields, validate


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    budget_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class TrancheIn(Schema):
    amount_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    due_date = fields.Date(required=True)
    milestone = fields.String(load_default="", validate=validate.Length(0, 1000))


class GrantIn(Schema):
    programme_id = fields.String(required=True, validate=validate.Length(1, 64))
    service_id = fields.String(required=True, validate=validate.Length(1, 64))
    tranches = fields.List(fields.Nested(TrancheIn), required=True,
                           validate=validate.Length(1, 120))
