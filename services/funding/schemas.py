"""Funding's HTTP bodies and answers. Money is whole cents: fractions and strings are refused."""
from marshmallow import Schema, fields, validate

from spc.shared.staff import ActionOut

TRANCHE_STATUSES = ("scheduled", "released", "frozen", "cancelled")
MAX_CENTS = 10**15  # ten thousand billion euros: exact as a JSON number in every parser


class Cents(fields.Integer):
    """Whole cents. A JSON number with no fraction (`1500.0` is JSON Schema's integer too) is
    taken; a fraction, a string or a boolean is refused: money is never rounded here."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_CENTS:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    budget_cents = Cents(required=True, validate=validate.Range(1, MAX_CENTS))


class TrancheIn(Schema):
    amount_cents = Cents(required=True, validate=validate.Range(1, MAX_CENTS))
    due_date = fields.Date(required=True)
    milestone = fields.String(load_default="", validate=validate.Length(0, 1000))


class GrantIn(Schema):
    programme_id = fields.String(required=True, validate=validate.Length(1, 64))
    service_id = fields.String(required=True, validate=validate.Length(1, 64))
    tranches = fields.List(fields.Nested(TrancheIn), required=True,
                           validate=validate.Length(1, 120))


class ProgrammeOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    budget_cents = fields.Integer(required=True)
    committed_cents = fields.Integer(required=True)
    available_cents = fields.Integer(required=True)
    history = fields.List(fields.Nested(ActionOut), metadata={
        "description": "who did what to it through the admin API, oldest first (single-resource answers)"})


class ProgrammeList(Schema):
    items = fields.List(fields.Nested(ProgrammeOut), required=True)


class TrancheOut(Schema):
    id = fields.String(required=True)
    grant_id = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    milestone = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TRANCHE_STATUSES))
    released_by = fields.String(allow_none=True)
    released_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    history = fields.List(fields.Nested(ActionOut), metadata={
        "description": "who did what to it through the admin API, oldest first (single-resource answers)"})


class GrantOut(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    service_id = fields.String(required=True)
    total_cents = fields.Integer(required=True)
    history = fields.List(fields.Nested(ActionOut), metadata={
        "description": "who did what to it through the admin API, oldest first (single-resource answers)"})
    tranches = fields.List(fields.Nested(TrancheOut), required=True)


class FundingOut(Schema):
    service_id = fields.String(required=True)
    frozen = fields.Boolean(required=True, metadata={"description": "the service is suspended or its "
                                                     "pact expired: no tranche may be released"})
    status = fields.String(required=True, metadata={
        "description": "the service's standing as funding knows it (`unknown` before it hears of it)"})
    grants = fields.List(fields.Nested(GrantOut), required=True)
