"""The registry's HTTP bodies."""
from marshmallow import Schema, fields, validate

from spc.shared.events import PRINCIPLES, SERVICE_STATUSES


class TerritoriesIn(Schema):
    departments = fields.List(fields.String(), load_default=list)
    communes = fields.List(fields.String(), load_default=list)


class RegisterServiceIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    legal_form = fields.String(required=True)
    siren = fields.String(load_default=None, allow_none=True)
    rna = fields.String(load_default=None, allow_none=True)
    mission = fields.String(required=True, validate=validate.Length(1, 5000))
    domains = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list)
    territories = fields.Nested(TerritoriesIn, required=True)
    commitments = fields.List(fields.String(), load_default=lambda: list(PRINCIPLES))
    contact_email = fields.String(required=True, validate=validate.Length(3, 320))


class RevokeIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 2000))


class ListQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(SERVICE_STATUSES))
    department = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
