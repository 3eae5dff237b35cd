"""Funding's HTTP bodies and answers. Money is whole cents: fractions and strings are refused."""

from marshmallow import Schema, fields, validate

from spc.shared.core.answers import Moment
from spc.shared.core.identifiers import SIREN, SIRET
from spc.shared.core.lists import ListShape
from spc.shared.sql.staff import ActionOut

from .domain.approvals import ACTIONS, APPROVAL_STATUSES
from .domain.model import TRANCHE_STATUSES

# An https:// URL, or a reference that does not begin like a URL (`name:`): what a public page may
# show as a link is never anything but https. Written without lookahead, for JSON Schema readers.
EVIDENCE = (
    r"^(https://[^\x00-\x20\x7f]+|[^A-Za-z\x00-\x1f\x7f][^\x00-\x1f\x7f]*"
    r"|[A-Za-z][A-Za-z0-9+.-]*([^A-Za-z0-9+.:\x00-\x1f\x7f-][^\x00-\x1f\x7f]*)?)$"
)
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


class FunderIn(Schema):
    name = fields.String(
        required=True,
        validate=validate.Length(1, 300),
        metadata={"description": "the funding body's name (État, a ministry, a collectivité, CAF, ...)"},
    )
    siret = fields.String(
        load_default=None,
        validate=validate.Regexp(SIRET),
        metadata={
            "format": "siret",
            "description": "the establishment's SIRET: 14 digits passing the Luhn check (La Poste's: digits "
            "summing to a multiple of 5); give it or the siren",
        },
    )
    siren = fields.String(
        load_default=None,
        validate=validate.Regexp(SIREN),
        metadata={"format": "siren", "description": "the body's SIREN: 9 digits passing the Luhn check, when no siret is given"},
    )

    # what marshmallow's fields cannot say, merged into openapi.yaml (the domain checks it)
    openapi_extra = {
        "oneOf": [
            {"required": ["siret"], "properties": {"siret": {"type": "string"}, "siren": {"type": "null"}}},
            {"required": ["siren"], "properties": {"siren": {"type": "string"}, "siret": {"type": "null"}}},
        ],
        "description": "a funding body: its name, and exactly one of its siret and its siren",
    }


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 300))
    budget_cents = Cents(required=True, validate=validate.Range(1, MAX_CENTS))
    funder = fields.Nested(
        FunderIn,
        load_default=None,
        metadata={
            "description": "who funds it: its name and its siret or (one of the two) its siren. Added in 1.2: "
            "optional, a programme opened without it shows `funder: null`"
        },
    )
    legal_basis = fields.String(
        load_default=None,
        validate=validate.Length(1, 2000),
        metadata={
            "description": "the law, decree or deliberation the programme rests on. Added in 1.2: optional, "
            "a programme opened without it shows `legal_basis: null`"
        },
    )


class ReleaseIn(Schema):
    evidence = fields.String(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Length(1, 500),
            validate.Regexp(EVIDENCE, error="an https:// URL, or a reference that does not begin like a URL (`name:`)"),
        ],
        metadata={
            "description": "where the milestone's evidence is: an https:// URL, or a reference (a document or "
            "deliberation number) that does not begin like a URL. Recorded; optional"
        },
    )
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 2000),
        metadata={
            "description": "why the tranche is released before its due date: required then (409 "
            "`release_before_due_date` without it), recorded"
        },
    )


class TrancheIn(Schema):
    amount_cents = Cents(required=True, validate=validate.Range(1, MAX_CENTS))
    due_date = fields.Date(required=True)
    milestone = fields.String(load_default="", validate=validate.Length(0, 1000))


class GrantIn(Schema):
    programme_id = fields.String(required=True, validate=validate.Length(1, 64))
    service_id = fields.String(required=True, validate=validate.Length(1, 64))
    tranches = fields.List(fields.Nested(TrancheIn), required=True, validate=validate.Length(1, 120))


class FunderOut(Schema):
    name = fields.String(required=True)
    siren = fields.String(required=True, metadata={"description": "given, or the siret's first 9 digits"})
    siret = fields.String(required=True, allow_none=True, metadata={"description": "null when only a siren was given"})


def _cents(status, note=""):
    return fields.Integer(
        required=True, metadata={"description": f"what the programme's {status} tranches add up to{note} (added in 1.2)"}
    )


class ProgrammeOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    funder = fields.Nested(
        FunderOut,
        required=True,
        allow_none=True,
        metadata={"description": "who funds it; null when the programme was opened without saying (added in 1.2)"},
    )
    legal_basis = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the text it rests on; null when the programme was opened without saying (added in 1.2)"},
    )
    budget_cents = fields.Integer(required=True, metadata={"description": "committed + available"})
    committed_cents = fields.Integer(
        required=True, metadata={"description": "released + scheduled + frozen: a cancelled tranche's amount is given back"}
    )
    available_cents = fields.Integer(required=True)
    scheduled_cents = _cents("scheduled")
    released_cents = _cents("released")
    frozen_cents = _cents("frozen")
    cancelled_cents = _cents("cancelled", ": given back, not in committed")
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )


class ProgrammeList(ListShape):
    items = fields.List(fields.Nested(ProgrammeOut), required=True)


class TrancheOut(Schema):
    id = fields.String(required=True)
    grant_id = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    milestone = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(TRANCHE_STATUSES))
    released_by = fields.String(
        allow_none=True, metadata={"description": "who ordered the release (above SPC_DUAL_CONTROL_CENTS: who requested it)"}
    )
    approved_by = fields.String(
        allow_none=True,
        metadata={
            "description": "the second person who approved the release above SPC_DUAL_CONTROL_CENTS; null when "
            "one person released it (added in 1.3)"
        },
    )
    released_at = Moment(allow_none=True)
    release_evidence = fields.String(
        allow_none=True, metadata={"description": "the milestone's evidence given with the release (added in 1.2)"}
    )
    release_reason = fields.String(
        allow_none=True, metadata={"description": "why it was released before its due date, as stated (added in 1.2)"}
    )
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )


class GrantOut(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True)
    service_id = fields.String(required=True)
    total_cents = fields.Integer(required=True)
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )
    tranches = fields.List(fields.Nested(TrancheOut), required=True)


class FundingOut(Schema):
    service_id = fields.String(required=True)
    frozen = fields.Boolean(
        required=True, metadata={"description": "the service is suspended or its pact expired: no tranche may be released"}
    )
    status = fields.String(
        required=True, metadata={"description": "the service's standing as funding knows it (`unknown` before it hears of it)"}
    )
    grants = fields.List(fields.Nested(GrantOut), required=True)


class GrantRevokeIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "why the grant is revoked: recorded, in its event and history"},
    )


class BudgetIn(Schema):
    budget_cents = Cents(
        required=True, validate=validate.Range(1, MAX_CENTS), metadata={"description": "the new budget, above the current one"}
    )
    reason = fields.String(
        required=True, validate=validate.Length(1, 2000), metadata={"description": "why (the decision that raises it): recorded"}
    )


class ApprovalIn(Schema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(ACTIONS),
        metadata={"description": "`release` a tranche, `grant_revocation` of a grant, `budget_raise` of a programme"},
    )
    target_id = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "the tranche's, the grant's or the programme's id"},
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "why: shown to the approver, recorded with the change (a release's `release_reason`)"},
    )
    evidence = fields.String(
        load_default=None,
        allow_none=True,
        validate=ReleaseIn().fields["evidence"].validate,
        metadata={"description": "a release's evidence, as in POST /tranches/{id}/release"},
    )
    budget_cents = Cents(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, MAX_CENTS),
        metadata={"description": "a budget raise's new budget (required then, above the current one)"},
    )


class RejectIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "why it is turned down: told to the requester through the request's history"},
    )


class ApprovalQuery(Schema):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(APPROVAL_STATUSES),
        metadata={"description": "only the requests in this status (`pending`: what waits for a second person)"},
    )


class ApprovalOut(Schema):
    id = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    approval_id = fields.String(required=True, metadata={"description": "the same as `id`, as events carry it"})
    target = fields.String(required=True, validate=validate.OneOf(["tranche", "grant", "programme"]))
    target_id = fields.String(required=True)
    programme_id = fields.String(required=True)
    service_id = fields.String(required=True, allow_none=True, metadata={"description": "null for a budget"})
    amount_cents = fields.Integer(
        required=True, metadata={"description": "the tranche's amount, what the grant still had to pay, or the budget's raise"}
    )
    budget_cents = fields.Integer(
        required=True, allow_none=True, metadata={"description": "a budget raise's new budget; null otherwise"}
    )
    status = fields.String(required=True, validate=validate.OneOf(APPROVAL_STATUSES))
    reason = fields.String(required=True)
    evidence = fields.String(required=True, allow_none=True)
    requested_by = fields.String(required=True)
    requested_at = Moment(required=True)
    expires_at = Moment(required=True)
    decided_by = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "who approved or rejected it; `spc/funding` when the service's suspension, expiry or "
            "revocation voided it; null while pending or once expired"
        },
    )
    decided_at = Moment(required=True, allow_none=True)
    decision_reason = fields.String(required=True, allow_none=True)
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )


class ApprovalList(ListShape):
    items = fields.List(fields.Nested(ApprovalOut), required=True)
