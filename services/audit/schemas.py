"""Audit's HTTP bodies: a finding has the fields of compliance.violation_reported."""
from marshmallow import Schema, fields, validate

from spc.shared.events import ViolationReported


class FindingIn(ViolationReported):
    pass


class ResolveIn(Schema):
    resolution = fields.String(required=True, validate=validate.Length(1, 5000))
