"""Inbound events (contract §2): other systems publish them to `spc.inbound`."""

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from ..geography import geography
from .catalogue import (
    COUNTER_FORMATS,
    COUNTER_TYPES,
    FIXED_FORMATS,
    OPENING_DAYS,
    PRINCIPLES,
    REPORT_CATEGORIES,
    SEVERITIES,
    Department,
    Id,
    Insee,
    Payload,
    ServiceId,
    event,
)

OPENING_SLOT = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$"
SID = "8dbe65f1-39af-445e-b4f6-0d5657d52ed0"  # the service every example is about


@event(
    "compliance.violation_reported",
    inbound=True,
    queues=["audit.compliance"],
    publishers=["ext-inspection", "ext-vox-usagers"],
    description="An inspection body, a partner or a staff tool reports that a service breaches its "
    "pact. `major` and `critical` are violations: the service is suspended, its funding "
    "frozen and its listings withdrawn, automatically. `minor` opens a finding with a "
    "remediation deadline (30 days).",
    example={
        "service_id": SID,
        "principle": "no_ad_monetisation",
        "severity": "major",
        "summary": "Advertising sold on the parents' portal",
        "reported_by": "inspection-35",
        "evidence_url": "https://inspection.example.org/reports/2026-118",
    },
)
class ViolationReported(Payload):
    service_id = ServiceId(required=True)
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    summary = fields.String(required=True, validate=validate.Length(1, 2000))
    reported_by = fields.String(required=True, validate=validate.Length(1, 200))
    # a String, for mypy: audit's FindingIn states its own rule for it
    evidence_url: fields.String = fields.Url(schemes={"https"}, load_default=None, allow_none=True)


@event(
    "usager.report_submitted",
    inbound=True,
    queues=["audit.reports"],
    publishers=["ext-vox-usagers"],
    relayed_by=["distribution"],
    description="A citizen's report about a service, recorded by audit for triage. A report alone "
    "never suspends a service. A France Services agent may relay a visitor's report from "
    "a counter (distribution's `POST /counters/{counter_id}/reports`, added in 1.1): it "
    "enters here with that `counter_id` and the producer `distribution`.",
    example={
        "service_id": SID,
        "category": "refused_access",
        "text": "Registration refused without a reason.",
        "counter_id": "FS-35-0042",
    },
)
class ReportSubmitted(Payload):
    service_id = ServiceId(required=True)
    category = fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES))
    text = fields.String(
        required=True, validate=validate.Length(1, 5000), metadata={"personal": True}
    )  # a citizen's own words: never shown in dead-letter listings (catalogue.redacted)
    counter_id = Id(load_default=None, allow_none=True)


@event(
    "counter.upserted",
    inbound=True,
    queues=["distribution.inbound"],
    publishers=["ext-france-services-directory"],
    description="A France Services counter opens or changes (national directory). Distribution "
    "lists there the active services serving its area (its département, or the canton of "
    "its commune). The commune must be in INSEE's COG (a municipal arrondissement or a "
    "former commune is accepted) and lie in `department`, unless the counter is mobile "
    "(`format` other than `fixe` or `fixe_antennes`: a bus may serve the Eure from "
    "Rouen), when `department` must exist; otherwise the event is dead-lettered with "
    "`schema_error:payload.commune_insee`, naming the code. Of two changes of one counter "
    "(this or `counter.closed`) with different `occurred_at`, the later stands, whatever order "
    "they arrive in (equal: the one handled last; a time in the future counts as its arrival's): "
    "set `occurred_at` to the time of the change in the directory. A close of a counter SPC does "
    "not know yet is not kept.",
    example={
        "counter_id": "FS-35-0042",
        "name": "France services Rennes Maurepas",
        "commune_insee": "35238",
        "department": "35",
        "address": "32 rue de la Marbaudais 35700 Rennes",
        "lat": 48.1287,
        "lon": -1.6573,
        "format": "fixe",
        "type": "principal",
        "email": "rennes-maurepas@france-services.gouv.fr",
        "phone": "02 99 00 00 42",
        "hours": {
            "lundi": ["09:00-12:30", "14:00-17:15"],
            "mardi": ["14:00-19:15"],
            "mercredi": ["09:00-12:30", "14:00-17:15"],
            "jeudi": ["14:00-17:15"],
            "vendredi": ["09:00-12:30", "14:00-17:15"],
        },
        "note": "Sur rendez-vous le jeudi.",
    },
)
class CounterUpserted(Payload):
    counter_id = Id(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 300))
    commune_insee = Insee(required=True)
    department = Department(required=True)
    address = fields.String(required=True, validate=validate.Length(0, 500))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    format = fields.String(
        load_default="fixe",
        validate=validate.OneOf(COUNTER_FORMATS),
        metadata={
            "description": "the ANCT directory's format: `fixe`, `fixe_antennes` (a fixed site with antennas, "
            "or one of them), `multisites`, `bus` (a bus or the like) or `itinerante` "
            "(added in 1.1: absent means fixe)"
        },
    )
    # the rest of the ANCT directory's record (added in 1.1; absent: unknown)
    type = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(COUNTER_TYPES),
        metadata={
            "description": "`principal` (a France Services site) or `antenne` (an antenna of one) (added in "
            "1.1: absent means unknown)"
        },
    )
    email = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(3, 200),
        metadata={"description": "the counter's e-mail address(es), as the directory gives them (added in 1.1)"},
    )
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 30),
        metadata={"description": "the counter's phone number (added in 1.1)"},
    )
    hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(OPENING_DAYS)),
        values=fields.List(fields.String(validate=validate.Regexp(OPENING_SLOT)), validate=validate.Length(1, 6)),
        load_default=None,
        allow_none=True,
        metadata={
            "description": "opening hours by day (`lundi` … `dimanche`), each day its slots `HH:MM-HH:MM`; "
            "a day not given is closed (added in 1.1: absent means unknown)"
        },
    )
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 500),
        metadata={"description": "the directory's remark for visitors (appointments, days of a mobile counter) (added in 1.1)"},
    )

    @validates_schema
    def _in_the_cog(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The place against INSEE's COG: the one check for the events and the counters import."""
        problems = geography().check_place(data["commune_insee"], data["department"], mobile=data["format"] not in FIXED_FORMATS)
        if problems:
            raise ValidationError(problems, field_name="commune_insee")


@event(
    "counter.closed",
    inbound=True,
    queues=["distribution.inbound"],
    publishers=["ext-france-services-directory"],
    description="A France Services counter closes; it loses its listings. Skipped when the "
    "counter changed after its `occurred_at` (a later `counter.upserted` reopened it).",
    example={"counter_id": "FS-35-0042"},
)
class CounterClosed(Payload):
    counter_id = Id(required=True)
