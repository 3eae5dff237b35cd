"""Every event on the wire has exactly one versioned marshmallow payload schema, registered here.

Producers dump with these schemas and consumers load with them (style habit 4). Inbound events
(contract §2) are published by other systems; outbound events (§3) by SPC's services.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

PRINCIPLES = ("continuity", "equality", "neutrality", "adaptability", "transparency",
              "data_protection", "no_ad_monetisation", "governance")
SEVERITIES = ("minor", "major", "critical")
REPORT_CATEGORIES = ("unavailable", "refused_access", "advertising", "data_misuse", "other")
SERVICE_STATUSES = ("submitted", "active", "suspended", "revoked")

_REGISTRY = {}
INBOUND = set()
OUTBOUND = set()


def register(event_type, version=1, inbound=False):
    """Class decorator: `cls` is the payload schema of `event_type` at `version`."""
    def wrap(cls):
        _REGISTRY[(event_type, version)] = cls()
        (INBOUND if inbound else OUTBOUND).add(event_type)
        return cls
    return wrap


def payload_schema(event_type, version=1):
    return _REGISTRY[(event_type, version)]


def known_event_type(event_type):
    return event_type in INBOUND or event_type in OUTBOUND


def all_schemas():
    return dict(_REGISTRY)


class Payload(Schema):
    """Base of every payload schema: a tolerant reader. Fields this version does not know are
    ignored, so a producer may add an optional field without breaking any consumer
    (docs/integrating.md, "Versions")."""

    class Meta:
        unknown = EXCLUDE


ServiceId = lambda **kw: fields.String(validate=validate.Length(1, 64), **kw)  # noqa: E731
Id = lambda **kw: fields.String(validate=validate.Length(1, 64), **kw)  # noqa: E731
Insee = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{5}|2[AB]\d{3})$"), **kw)  # noqa: E731
Department = lambda **kw: fields.String(validate=validate.Regexp(r"^(\d{2}|2[AB]|97\d|98\d)$"), **kw)  # noqa: E731


# ---- inbound (contract §2) -------------------------------------------------------------------
@register("compliance.violation_reported", inbound=True)
class ViolationReported(Payload):
    service_id = ServiceId(required=True)
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    summary = fields.String(required=True, validate=validate.Length(1, 2000))
    reported_by = fields.String(required=True, validate=validate.Length(1, 200))
    evidence_url = fields.Url(schemes={"https"}, load_default=None, allow_none=True)


@register("usager.report_submitted", inbound=True)
class ReportSubmitted(Payload):
    service_id = ServiceId(required=True)
    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))
    text = fields.String(required=True, validate=validate.Length(1, 5000))
    counter_id = Id(load_default=None, allow_none=True)


@register("counter.upserted", inbound=True)
class CounterUpserted(Payload):
    counter_id = Id(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 300))
    commune_insee = Insee(required=True)
    department = Department(required=True)
    address = fields.String(required=True, validate=validate.Length(0, 500))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


@register("counter.closed", inbound=True)
class CounterClosed(Payload):
    counter_id = Id(required=True)


# ---- outbound: registry ----------------------------------------------------------------------
class Territories(Payload):
    departments = fields.List(Department(), load_default=list)
    communes = fields.List(Insee(), load_default=list)


class ServiceSnapshot(Payload):
    """Every registry lifecycle event carries the whole standing, so the newest `version` wins."""
    service_id = ServiceId(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(SERVICE_STATUSES))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    territories = fields.Nested(Territories, required=True)
    reason = fields.String(load_default=None, allow_none=True)


for _name in ("submitted", "approved", "suspended", "reinstated", "revoked"):
    register(f"registry.service_{_name}")(type(f"Service{_name.title()}", (ServiceSnapshot,), {}))


# ---- outbound: funding -----------------------------------------------------------------------
class TrancheOut(Payload):
    tranche_id = Id(required=True)
    amount_cents = fields.Integer(required=True, strict=True)
    due_date = fields.Date(required=True)
    milestone = fields.String(load_default="")


@register("funding.grant_awarded")
class GrantAwarded(Payload):
    grant_id = Id(required=True)
    programme_id = Id(required=True)
    service_id = ServiceId(required=True)
    total_cents = fields.Integer(required=True, strict=True)
    tranches = fields.List(fields.Nested(TrancheOut), required=True)


@register("funding.tranche_released")
class TrancheReleased(Payload):
    """The payment order: published once per tranche, ever."""
    tranche_id = Id(required=True)
    grant_id = Id(required=True)
    service_id = ServiceId(required=True)
    amount_cents = fields.Integer(required=True, strict=True)
    released_by = fields.String(required=True)


class FundingStanding(Payload):
    service_id = ServiceId(required=True)
    version = fields.Integer(required=True, strict=True)
    tranche_ids = fields.List(Id(), required=True)


register("funding.funding_frozen")(type("FundingFrozen", (FundingStanding,), {}))
register("funding.funding_unfrozen")(type("FundingUnfrozen", (FundingStanding,), {}))


# ---- outbound: distribution ------------------------------------------------------------------
class ListingChange(Payload):
    service_id = ServiceId(required=True)
    counter_ids = fields.List(Id(), required=True)
    reason = fields.String(load_default=None, allow_none=True)


register("distribution.listing_published")(type("ListingPublished", (ListingChange,), {}))
register("distribution.listing_withdrawn")(type("ListingWithdrawn", (ListingChange,), {}))


# ---- outbound: audit -------------------------------------------------------------------------
@register("audit.finding_recorded")
class FindingRecorded(Payload):
    finding_id = Id(required=True)
    service_id = ServiceId(required=True)
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    is_violation = fields.Boolean(required=True)
    remediation_deadline = fields.AwareDateTime(load_default=None, allow_none=True)


class ViolationStanding(Payload):
    """`audit_version` grows with each audit decision on a service; `open_violations` is the count
    after this decision. Consumers apply a decision only when its audit_version is newer."""
    finding_id = Id(required=True)
    service_id = ServiceId(required=True)
    open_violations = fields.Integer(required=True, strict=True)
    audit_version = fields.Integer(required=True, strict=True)


register("audit.violation_confirmed")(type("ViolationConfirmed", (ViolationStanding,), {}))
register("audit.violation_resolved")(type("ViolationResolved", (ViolationStanding,), {}))
