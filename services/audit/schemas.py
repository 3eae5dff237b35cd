"""Audit's HTTP bodies and answers: a finding has the fields of compliance.violation_reported."""
from marshmallow import Schema, fields, validate

from spc.shared.events import PRINCIPLES, SEVERITIES, ViolationReported
from spc.shared.staff import ActionOut

FINDING_STATUSES = ("open", "resolved")


class FindingIn(ViolationReported):
    """Staff send what an external inspection publishes (compliance.violation_reported), with the
    evidence link checked by the one rule openapi.yaml states."""
    evidence_url = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(max=2000), validate.Regexp(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$")],
        metadata={"description": "an https link to the evidence (printable ASCII: percent-encode the rest)"})


class ResolveIn(Schema):
    resolution = fields.String(required=True, validate=validate.Length(1, 5000))


class CommitmentOut(Schema):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = fields.String(required=True, allow_none=True, metadata={
        "description": "the service's own text of how it applies the principle (null in a contract-v1 pact)"})
    pact_version = fields.Integer(required=True, metadata={"description": "the pact version the text is from"})


class FindingOut(Schema):
    id = fields.String(required=True)
    service_id = fields.String(required=True)
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    summary = fields.String(required=True)
    reported_by = fields.String(allow_none=True)
    evidence_url = fields.String(allow_none=True)
    is_violation = fields.Boolean(required=True, metadata={
        "description": "major and critical findings are violations: the service is suspended while one is open"})
    escalated = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(FINDING_STATUSES))
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    remediation_deadline = fields.String(allow_none=True, metadata={"format": "date-time"})
    resolution = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    commitment = fields.Nested(CommitmentOut, required=True, allow_none=True, metadata={
        "description": "the service's commitment to the finding's principle, from the newest pact audit "
                       "has heard of (null while audit does not know it)"})
    history = fields.List(fields.Nested(ActionOut), metadata={
        "description": "who did what to it through the admin API, oldest first (single-resource answers)"})


class FindingsOut(Schema):
    service_id = fields.String(required=True)
    open_violations = fields.Integer(required=True)
    findings = fields.List(fields.Nested(FindingOut), required=True)


class JournalCheck(Schema):
    ok = fields.Boolean(required=True)
    length = fields.Integer(metadata={"description": "entries checked (when ok)"})
    first_bad_seq = fields.Integer(metadata={"description": "the first entry whose hash does not "
                                             "follow (when not ok)"})
