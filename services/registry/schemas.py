"""The registry's HTTP bodies, queries and answers. The pact's rules that a schema can say are
said here too (so openapi.yaml shows them); the domain (domain/pact.py) checks them all."""
from marshmallow import Schema, fields, validate

from spc.shared.events import PRINCIPLES, SERVICE_STATUSES

from spc.shared.staff import ActionOut

from .domain.pact import COMMUNE, DEPARTMENT, EMAIL, LEGAL_FORMS

Department = fields.String(validate=validate.Regexp(DEPARTMENT), metadata={
    "description": "INSEE département code (01–95 without 20, 2A, 2B, 971–978, 984–989)"})
Commune = fields.String(validate=validate.Regexp(COMMUNE), metadata={"description": "INSEE commune code"})


class TerritoriesIn(Schema):
    departments = fields.List(Department, load_default=list)
    communes = fields.List(Commune, load_default=list)

    # what marshmallow's fields cannot say, merged into openapi.yaml (the domain checks it)
    openapi_extra = {"anyOf": [{"required": ["departments"], "properties": {"departments": {"minItems": 1}}},
                               {"required": ["communes"], "properties": {"communes": {"minItems": 1}}}],
                     "description": "at least one département or commune"}


class RegisterServiceIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    legal_form = fields.String(required=True, validate=validate.OneOf(LEGAL_FORMS))
    siren = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{9}$"),
                          metadata={"description": "9 digits passing the Luhn check"})
    rna = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^W[0-9]{9}$"),
                        metadata={"description": "RNA number: W and 9 digits"})
    mission = fields.String(required=True, validate=validate.Length(1, 5000))
    domains = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list,
                          validate=validate.Length(max=50))
    territories = fields.Nested(TerritoriesIn, required=True)
    commitments = fields.List(fields.String(validate=validate.OneOf(PRINCIPLES)),
                              load_default=lambda: list(PRINCIPLES))
    contact_email = fields.String(required=True, validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])


class RevokeIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 2000))


class ListQuery(Schema):
    status = fields.String(validate=validate.OneOf(SERVICE_STATUSES))
    department = fields.String(validate=validate.Length(1, 3))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class TerritoriesOut(Schema):
    departments = fields.List(fields.String())
    communes = fields.List(fields.String())


class ServiceOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    siren = fields.String(allow_none=True)
    rna = fields.String(allow_none=True)
    mission = fields.String(required=True)
    domains = fields.List(fields.String(), required=True)
    territories = fields.Nested(TerritoriesOut, required=True)
    commitments = fields.List(fields.String(), required=True)
    contact_email = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(SERVICE_STATUSES))
    status_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "the standing's version"})
    open_violations = fields.Integer(required=True)
    history = fields.List(fields.Nested(ActionOut), metadata={
        "description": "who did what to it through the admin API, oldest first (single-resource answers)"})


class ServicePage(Schema):
    items = fields.List(fields.Nested(ServiceOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
