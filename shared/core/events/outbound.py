"""Outbound events (contract §3): SPC's services publish them to `spc.events`.

Each is declared once, as the domain event its aggregate records (a `@domain_event` dataclass,
built by keyword: `TrancheReleased(tranche_id=..., ...)`; services/<name>/domain/events.py
re-exports its service's): each field's `wire(...)` is its marshmallow field, and `@event` makes
the payload schema from them, in their order. A family (one dataclass, several types:
`StandingChanged` is `registry.service_approved`, `registry.service_suspended`...) names its type
from its `change`, which is not on the wire. The reminders (shared/sql/reminders.py) have no domain
event: their payload schema is declared as such, as the inbound ones are."""

from typing import Any, ClassVar, Optional

import marshmallow
from marshmallow import fields, validate

from ..domain import Change
from .catalogue import (
    PRINCIPLES,
    REPORT_CATEGORIES,
    SERVICE_STATUSES,
    SEVERITIES,
    Department,
    Id,
    Insee,
    Payload,
    ServiceId,
    domain_event,
    event,
    wire,
)
from ..deadlines import REMINDER_KINDS, RULES  # a reminder's kinds are the rules' own: one list
from .inbound import SID

FINDING = "5b0c9d4e-6f1a-4a51-9d0e-3c7f7a2e9b11"


# ---- registry --------------------------------------------------------------------------------
class Territories(Payload):
    departments = fields.List(Department(), load_default=list)
    communes = fields.List(Insee(), load_default=list)
    regions = fields.List(
        fields.String(validate=validate.Regexp(r"^[0-9]{2}$")),
        load_default=list,
        metadata={"description": "INSEE région codes; a région covers its départements (added in 1.1: absent means none)"},
    )
    national = fields.Boolean(
        load_default=False, metadata={"description": "the whole country (added in 1.1: absent means false)"}
    )


class Commitment(Payload):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = fields.String(
        allow_none=True,
        metadata={"description": "the service's own text of how it applies the principle (null in a contract-v1 pact)"},
    )


@domain_event
class StandingChanged(Change):
    """`registry.service_<change>` (submitted, approved, suspended, reinstated, revoked, expired)
    and `registry.pact_amended`: every registry lifecycle event carries the service's whole
    standing after the change, so consumers keep the newest `version`."""

    family = "registry.service_"
    change: str
    service_id: str = wire(ServiceId(required=True))
    name: str = wire(fields.String(required=True))
    status: str = wire(fields.String(required=True, validate=validate.OneOf(SERVICE_STATUSES)))
    version: int = wire(fields.Integer(required=True, strict=True, validate=validate.Range(min=1)))
    territories: dict[str, Any] = wire(fields.Nested(Territories, required=True))
    reason: str | None = wire(fields.String(load_default=None, allow_none=True), default=None)
    pact_version: int = wire(
        fields.Integer(load_default=1, metadata={"description": "the pact's version this standing is under (added in 1.1)"}),
        default=1,
    )
    commitments: list[dict[str, Any]] = wire(
        fields.List(
            fields.Nested(Commitment),
            load_default=list,
            metadata={"description": "the pact's commitments, each principle with the service's text (added in 1.1)"},
        ),
        default_factory=list,
    )
    amendment_id: str | None = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={"description": "`registry.pact_amended`: the amendment approved (added in 1.1)"},
        ),
        default=None,
    )
    mission: str | None = wire(
        fields.String(load_default=None, allow_none=True, metadata={"description": "(added in 1.1)"}), default=None
    )
    domains: list[str] = wire(
        fields.List(fields.String(), load_default=list, metadata={"description": "(added in 1.1)"}), default_factory=list
    )
    contact_email: str | None = wire(
        fields.String(load_default=None, allow_none=True, metadata={"description": "(added in 1.1)"}), default=None
    )
    referral: str | None = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={"description": "how a counter agent refers a person to the service (added in 1.1)"},
        ),
        default=None,
    )

    @property
    def event_type(self) -> str:
        return "registry.pact_amended" if self.change == "pact_amended" else self.family + self.change


STANDING_QUEUES = ["funding.events", "distribution.events", "audit.standings"]
_SNAPSHOT = {
    "service_id": SID,
    "name": "Crèche parentale Les Lutins",
    "territories": {"departments": ["35"], "communes": []},
    "reason": None,
}
_LIFECYCLE = [  # (name, status, example version, example reason, description)
    ("submitted", "submitted", 1, None, "A service was registered under its pact (status `submitted`)."),
    ("approved", "active", 2, None, "A service was approved (status `active`)."),
    ("suspended", "suspended", 3, f"violation {FINDING}", "A service was suspended because of an open violation."),
    ("reinstated", "active", 4, f"resolved {FINDING}", "A suspended service was reinstated: no open violation is left."),
    ("revoked", "revoked", 5, "pact terminated", "A service was revoked (final)."),
    (
        "expired",
        "expired",
        5,
        "term ended on 2029-08-31",
        "The pact's term ended: the service is no longer active (funding frozen, listings withdrawn) "
        "until an amendment renews it (added in 1.1).",
    ),
    (
        "pact_amended",
        "active",
        6,
        "amendment 3f1c2b9e-7a55-4c1d-9a3e-0b6d8f2e4c71",
        "An amendment to the pact was approved: the whole standing under the new pact version "
        "(territories, commitments). It never changes the status, except a renewal ending an expiry "
        "(added in 1.1).",
    ),
]
SERVICE_LIFECYCLE = tuple(
    "registry.pact_amended" if name == "pact_amended" else f"registry.service_{name}" for name, *_ in _LIFECYCLE
)
"""The registry's lifecycle events: each carries the service's whole standing."""
for (_name, _status, _version, _reason, _description), _type in zip(_LIFECYCLE, SERVICE_LIFECYCLE, strict=True):
    event(
        _type,
        queues=STANDING_QUEUES,
        description=_description,
        example=dict(_SNAPSHOT, status=_status, version=_version, reason=_reason),
    )(StandingChanged)


AMENDMENT = "3f1c2b9e-7a55-4c1d-9a3e-0b6d8f2e4c71"


@domain_event
class AmendmentDecided(Change):
    """`registry.amendment_proposed` / `registry.amendment_rejected` (an approval is
    `registry.pact_amended`, a StandingChanged)."""

    family = "registry.amendment_"
    change: str
    service_id: str = wire(ServiceId(required=True))
    amendment_id: str = wire(Id(required=True))
    parts: list[str] = wire(
        fields.List(
            fields.String(),
            required=True,
            metadata={"description": "the parts of the pact it changes (territories, commitments, governance, ...)"},
        )
    )
    base_version: int = wire(fields.Integer(required=True, metadata={"description": "the pact version it was proposed on"}))
    reason: str = wire(fields.String(required=True))


event(
    "registry.amendment_proposed",
    description="A registrar proposed an amendment to a service's pact "
    "(effective only when approved: `registry.pact_amended`). Added in 1.1.",
    example={
        "service_id": SID,
        "amendment_id": AMENDMENT,
        "parts": ["territories"],
        "base_version": 1,
        "reason": "Le Morbihan rejoint le pacte",
    },
)(AmendmentDecided)
event(
    "registry.amendment_rejected",
    description="An amendment was rejected; the pact stays as it was. Added in 1.1.",
    example={
        "service_id": SID,
        "amendment_id": AMENDMENT,
        "parts": ["territories"],
        "base_version": 1,
        "reason": "La délibération n'est pas encore publiée",
    },
)(AmendmentDecided)


@domain_event
class IdentityChecked(Change):
    """`registry.identity_verified` / `registry.identity_mismatch` (a mismatch or not_found): the
    registries settled what they say of the service's declared identity."""

    family = "registry.identity_"
    change: str
    service_id: str = wire(ServiceId(required=True))
    outcome: str = wire(
        fields.String(
            required=True,
            validate=validate.OneOf(["verified", "mismatch", "not_found"]),
            metadata={"description": "verified; mismatch (`fields` says what disagrees); not_found (no unit with this SIREN)"},
        )
    )
    # (on the wire `fields`; from here on in this class, `fields` is this one: marshmallow's is spelt out)
    fields: dict[str, str] = wire(
        marshmallow.fields.Dict(
            keys=marshmallow.fields.String(),
            values=marshmallow.fields.String(),
            data_key="fields",
            load_default=dict,
            attribute="fields",
            metadata={
                "description": "for a mismatch or not_found: each declared field that disagrees, with what the registry says"
            },
        ),
        default_factory=dict,
    )
    source: str = wire(marshmallow.fields.String(required=True, metadata={"description": "the registry that answered"}))
    siren: str | None = wire(
        marshmallow.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{9}$")), default=None
    )


event(
    "registry.identity_verified",
    description="The national registries confirm a service's declared identity: "
    "the SIREN's unit exists, is active, has a legal nature of the declared legal form, and an association's "
    "RNA number matches (API Recherche d'entreprises). Added in 1.3.",
    example={"service_id": SID, "outcome": "verified", "fields": {}, "source": "recherche-entreprises", "siren": "552100554"},
)(IdentityChecked)
event(
    "registry.identity_mismatch",
    description="The national registries disagree with a service's declared "
    "identity (`fields`), or know no unit with its SIREN (`not_found`): its approval needs a stated reason. "
    "Added in 1.3.",
    example={
        "service_id": SID,
        "outcome": "mismatch",
        "source": "recherche-entreprises",
        "siren": "552100554",
        "fields": {"etat_administratif": "ceased (C): the unit is closed"},
    },
)(IdentityChecked)


# ---- funding ---------------------------------------------------------------------------------
class TrancheOut(Payload):
    tranche_id = Id(required=True)
    amount_cents = fields.Integer(required=True, strict=True)
    due_date = fields.Date(required=True)
    milestone = fields.String(load_default="")


class Funder(Payload):
    name = fields.String(required=True)
    siren = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{9}$"))
    siret = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[0-9]{14}$"),
        metadata={"description": "null when only the SIREN was given"},
    )


@event(
    "funding.programme_opened",
    description="A funding programme was opened with its budget envelope, its funder and its legal basis "
    "(`funder`, `legal_basis`: added in 1.2, null when the programme was opened without them).",
    example={
        "programme_id": "p-2026-petite-enfance",
        "name": "Petite enfance 2027 — Ille-et-Vilaine",
        "budget_cents": 50000000,
        "funder": {"name": "Ville de Rennes", "siren": "213502388", "siret": "21350238800019"},
        "legal_basis": "Délibération du conseil municipal de Rennes n° 2026-0412 du 12 octobre 2026 (accueil du jeune enfant)",
    },
)
@domain_event
class ProgrammeOpened:
    event_type: ClassVar[str]
    programme_id: str = wire(Id(required=True))
    name: str = wire(fields.String(required=True, validate=validate.Length(1, 300)))
    budget_cents: int = wire(fields.Integer(required=True, strict=True))
    funder: Optional[dict[str, Any]] = wire(
        fields.Nested(
            Funder,
            load_default=None,
            allow_none=True,
            metadata={"description": "who funds it (SIREN, and SIRET when given); null when not given (added in 1.2)"},
        ),
        default=None,
    )  # {name, siren, siret}; None: not given (contract v1)
    legal_basis: Optional[str] = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={"description": "the law, decree or deliberation it rests on; null when not given (added in 1.2)"},
        ),
        default=None,
    )


@event(
    "funding.grant_awarded",
    description="A grant was awarded to an active service, split into tranches.",
    example={
        "grant_id": "g-77",
        "programme_id": "p-2026-petite-enfance",
        "service_id": SID,
        "total_cents": 250000,
        "tranches": [
            {"tranche_id": "t-1", "amount_cents": 100000, "due_date": "2026-01-01", "milestone": "opening"},
            {"tranche_id": "t-2", "amount_cents": 150000, "due_date": "2026-06-01", "milestone": "first term"},
        ],
    },
)
@domain_event
class GrantAwarded:
    event_type: ClassVar[str]
    grant_id: str = wire(Id(required=True))
    programme_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    total_cents: int = wire(fields.Integer(required=True, strict=True))
    tranches: list[dict[str, Any]] = wire(fields.List(fields.Nested(TrancheOut), required=True))


@event(
    "funding.tranche_released",
    readers=["ext-payments"],
    description="The payment order: a tranche was released. Published once per tranche, ever "
    "(a consumer may still receive it twice: deduplicate on `event_id`). Added in 1.2: "
    "`released_at`, `due_date`, `evidence` (an https:// URL or a reference to the milestone's "
    "evidence, null when none was given) and `reason` (why it was released before its due "
    "date; null when released on or after it).",
    example={
        "tranche_id": "t-1",
        "grant_id": "g-77",
        "service_id": SID,
        "amount_cents": 100000,
        "released_by": "funding_officer/dreets-bretagne",
        "released_at": "2027-01-18T09:30:00+00:00",
        "due_date": "2027-01-15",
        "evidence": "https://petitspas.example.org/documents/pv-ouverture.pdf",
        "reason": None,
    },
)
@domain_event
class TrancheReleased:
    """The payment order: published once per tranche, ever."""

    event_type: ClassVar[str]
    tranche_id: str = wire(Id(required=True))
    grant_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    amount_cents: int = wire(fields.Integer(required=True, strict=True))
    released_by: str = wire(fields.String(required=True))
    released_at: Optional[str] = wire(
        fields.AwareDateTime(load_default=None, allow_none=True, metadata={"description": "(added in 1.2)"}), default=None
    )
    due_date: Optional[str] = wire(
        fields.Date(
            load_default=None,
            allow_none=True,
            metadata={"description": "the tranche's due date; released before it only with a `reason` (added in 1.2)"},
        ),
        default=None,
    )
    evidence: Optional[str] = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={"description": "the milestone's evidence: an https:// URL or a reference (added in 1.2)"},
        ),
        default=None,
    )
    reason: Optional[str] = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={
                "description": "why it was released before its due date (added in 1.2); through an approval, the request's reason"
            },
        ),
        default=None,
    )
    approved_by: Optional[str] = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={
                "description": "above SPC_DUAL_CONTROL_CENTS, the second person who approved the release "
                "(`released_by` requested it); null when one person released it (added in 1.3)"
            },
        ),
        default=None,
    )


@event(
    "funding.grant_revoked",
    description="A grant was revoked: what it still had to pay (its scheduled and frozen tranches) is "
    "cancelled and given back to its programme; what it paid stays paid. Above "
    "SPC_DUAL_CONTROL_CENTS, requested by one person (`revoked_by`) and approved by another "
    "(`approved_by`). Added in 1.3.",
    example={
        "grant_id": "g-77",
        "programme_id": "p-2026-petite-enfance",
        "service_id": SID,
        "cancelled_cents": 150000,
        "tranche_ids": ["t-2"],
        "reason": "La crèche a fermé le 30 juin (délibération 2027-112)",
        "revoked_by": "funding_officer/dreets-bretagne",
        "approved_by": "funding_officer/dreets-daf",
    },
)
@domain_event
class GrantRevoked:
    """What a grant still had to pay (its scheduled and frozen tranches) is cancelled and given
    back to its programme; what it paid stays paid."""

    event_type: ClassVar[str]
    grant_id: str = wire(Id(required=True))
    programme_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    cancelled_cents: int = wire(fields.Integer(required=True, strict=True))
    tranche_ids: list[str] = wire(fields.List(Id(), required=True))
    reason: str = wire(fields.String(required=True))
    revoked_by: str = wire(fields.String(required=True))
    approved_by: Optional[str] = wire(fields.String(load_default=None, allow_none=True), default=None)


@event(
    "funding.budget_raised",
    description="A programme's budget envelope was raised. Above SPC_DUAL_CONTROL_CENTS (the raise), "
    "requested by one person (`raised_by`) and approved by another (`approved_by`). Added in 1.3.",
    example={
        "programme_id": "p-2026-petite-enfance",
        "from_cents": 50000000,
        "to_cents": 60000000,
        "reason": "Décision modificative n° 2 du 14 mars 2027",
        "raised_by": "funding_officer/dreets-bretagne",
        "approved_by": "funding_officer/dreets-daf",
    },
)
@domain_event
class BudgetRaised:
    event_type: ClassVar[str]
    programme_id: str = wire(Id(required=True))
    from_cents: int = wire(fields.Integer(required=True, strict=True))
    to_cents: int = wire(fields.Integer(required=True, strict=True))
    reason: str = wire(fields.String(required=True))
    raised_by: str = wire(fields.String(required=True))
    approved_by: Optional[str] = wire(fields.String(load_default=None, allow_none=True), default=None)


@domain_event
class ApprovalChanged:
    """`funding.<action>_<change>`: a change of money waiting for, or given, a second person's
    approval (two people for money; services/funding/domain/approvals.py) was requested, approved,
    rejected or expired (`funding.release_requested`...). Each field is always said."""

    action: str
    change: str
    approval_id: str = wire(Id(required=True))
    target: str = wire(fields.String(required=True, validate=validate.OneOf(["tranche", "grant", "programme"])))
    target_id: str = wire(Id(required=True, metadata={"description": "the tranche, the grant or the programme"}))
    programme_id: str = wire(Id(required=True))
    service_id: Optional[str] = wire(ServiceId(load_default=None, allow_none=True, metadata={"description": "null for a budget"}))
    amount_cents: int = wire(
        fields.Integer(
            required=True,
            strict=True,
            metadata={"description": "the tranche's amount, what the grant still had to pay, or the budget's raise"},
        )
    )
    budget_cents: Optional[int] = wire(
        fields.Integer(
            load_default=None,
            allow_none=True,
            strict=True,
            metadata={"description": "a budget raise's new budget; null otherwise"},
        )
    )
    status: str = wire(fields.String(required=True, validate=validate.OneOf(["pending", "approved", "rejected", "expired"])))
    reason: str = wire(fields.String(required=True))
    evidence: Optional[str] = wire(fields.String(load_default=None, allow_none=True))
    requested_by: str = wire(fields.String(required=True))
    requested_at: str = wire(fields.AwareDateTime(required=True))
    expires_at: str = wire(fields.AwareDateTime(required=True))
    decided_by: Optional[str] = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={
                "description": "who approved or rejected it (`spc/funding` when the service's suspension, expiry or "
                "revocation voided it); null while pending and when it expired"
            },
        )
    )
    decided_at: Optional[str] = wire(fields.AwareDateTime(load_default=None, allow_none=True))
    decision_reason: Optional[str] = wire(fields.String(load_default=None, allow_none=True))

    @property
    def event_type(self) -> str:
        return f"funding.{self.action}_{self.change}"


_APPROVAL: dict[str, Any] = {
    "approval_id": "a-31",
    "target": "tranche",
    "target_id": "t-2",
    "programme_id": "p-2026-petite-enfance",
    "service_id": SID,
    "amount_cents": 1500000,
    "budget_cents": None,
    "status": "pending",
    "reason": "Jalon « premier trimestre » atteint",
    "evidence": "PV-CA-2027-03",
    "requested_by": "funding_officer/dreets-bretagne",
    "requested_at": "2027-04-02T09:30:00+00:00",
    "expires_at": "2027-04-09T09:30:00+00:00",
    "decided_by": None,
    "decided_at": None,
    "decision_reason": None,
}
_DECIDED = {"decided_by": "funding_officer/dreets-daf", "decided_at": "2027-04-03T14:00:00+00:00"}
_APPROVAL_CHANGES: dict[str, tuple[str, dict[str, Any]]] = {
    "requested": ("was requested by one funding officer; it waits for another's approval", {}),
    "approved": (
        "was approved by a second person and carried out in the same transaction (its own event "
        "follows: funding.tranche_released, funding.grant_revoked or funding.budget_raised)",
        {"status": "approved", **_DECIDED},
    ),
    "rejected": (
        "was turned down: by a funding officer (its requester too: a withdrawal), or by funding itself "
        "(`decided_by: spc/funding`) when the service was suspended, expired or revoked meanwhile",
        {"status": "rejected", **_DECIDED, "decision_reason": "Pièce justificative illisible"},
    ),
    "expired": (
        "was left unanswered past SPC_DUAL_CONTROL_EXPIRY_SECONDS",
        {"status": "expired", "decided_at": "2027-04-09T09:30:00+00:00"},
    ),
}
_APPROVAL_ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "release": ("A tranche's release (the payment order) above SPC_DUAL_CONTROL_CENTS", {}),
    "grant_revocation": (
        "A grant's revocation above SPC_DUAL_CONTROL_CENTS",
        {"target": "grant", "target_id": "g-77", "evidence": None},
    ),
    "budget_raise": (
        "A programme's budget raise above SPC_DUAL_CONTROL_CENTS",
        {
            "target": "programme",
            "target_id": "p-2026-petite-enfance",
            "service_id": None,
            "amount_cents": 10000000,
            "budget_cents": 60000000,
            "evidence": None,
        },
    ),
}
for _action, (_what, _shape) in _APPROVAL_ACTIONS.items():
    for _change, (_how, _state) in _APPROVAL_CHANGES.items():
        event(
            f"funding.{_action}_{_change}",
            description=f"{_what} {_how}. Added in 1.3.",
            example={**_APPROVAL, **_shape, **_state},
        )(ApprovalChanged)


@domain_event
class FundingChanged(Change):
    """`funding.funding_<change>` (frozen, unfrozen): the tranches that moved, at the registry
    standing `version` that moved them."""

    family = "funding.funding_"
    change: str
    service_id: str = wire(ServiceId(required=True))
    version: int = wire(fields.Integer(required=True, strict=True))
    tranche_ids: list[str] = wire(fields.List(Id(), required=True))


event(
    "funding.funding_frozen",
    description="The service was suspended: these unreleased tranches are frozen.",
    example={"service_id": SID, "version": 3, "tranche_ids": ["t-2"]},
)(FundingChanged)
event(
    "funding.funding_unfrozen",
    description="The service was reinstated: these tranches are scheduled again.",
    example={"service_id": SID, "version": 4, "tranche_ids": ["t-2"]},
)(FundingChanged)


# ---- distribution ----------------------------------------------------------------------------
@domain_event
class ListingsChanged(Change):
    """`distribution.listing_<change>` (published, withdrawn): the counters concerned."""

    family = "distribution.listing_"
    change: str
    service_id: str = wire(ServiceId(required=True))
    counter_ids: list[str] = wire(fields.List(Id(), required=True))
    reason: str | None = wire(fields.String(load_default=None, allow_none=True), default=None)


event(
    "distribution.listing_published",
    description="The service is listed at these counters.",
    example={"service_id": SID, "counter_ids": ["FS-35-0042"], "reason": "service active (version 2)"},
)(ListingsChanged)
event(
    "distribution.listing_withdrawn",
    description="The service is withdrawn from these counters.",
    example={"service_id": SID, "counter_ids": ["FS-35-0042"], "reason": "service suspended (version 3)"},
)(ListingsChanged)


# ---- audit -----------------------------------------------------------------------------------
@event(
    "audit.finding_recorded",
    description="Audit recorded a finding against a service.",
    example={
        "finding_id": FINDING,
        "service_id": SID,
        "principle": "no_ad_monetisation",
        "severity": "major",
        "is_violation": True,
        "remediation_deadline": None,
    },
)
@domain_event
class FindingRecorded:
    event_type: ClassVar[str]
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    principle: str = wire(fields.String(required=True, validate=validate.OneOf(PRINCIPLES)))
    severity: str = wire(fields.String(required=True, validate=validate.OneOf(SEVERITIES)))
    is_violation: bool = wire(fields.Boolean(required=True))
    remediation_deadline: str | None = wire(fields.AwareDateTime(load_default=None, allow_none=True), default=None)


@event(
    "audit.finding_resolved",
    description="A finding was resolved (a violation's resolution is also an `audit.violation_resolved` decision).",
    example={"finding_id": FINDING, "service_id": SID, "is_violation": True, "resolved_by": "auditor/inspection-35"},
)
@domain_event
class FindingResolved:
    event_type: ClassVar[str]
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    is_violation: bool = wire(fields.Boolean(required=True))
    resolved_by: str = wire(fields.String(required=True))


@domain_event
class ViolationDecided(Change):
    """`audit.violation_<change>` (confirmed, resolved): `open_violations` is the count after this
    decision; `audit_version` grows with each audit decision on a service. Consumers apply a
    decision only when its audit_version is newer."""

    family = "audit.violation_"
    change: str
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    open_violations: int = wire(fields.Integer(required=True, strict=True))
    audit_version: int = wire(fields.Integer(required=True, strict=True))
    principle: str | None = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            validate=validate.OneOf(PRINCIPLES),
            metadata={"description": "the finding's principle: the one at stake (added in 1.2; absent or null: not said)"},
        ),
        default=None,
    )


event(
    "audit.violation_confirmed",
    queues=["registry.events"],
    description="A violation is open against the service (`open_violations` after this decision; "
    "apply only when `audit_version` is newer than the last applied).",
    example={"finding_id": FINDING, "service_id": SID, "open_violations": 1, "audit_version": 1, "principle": "neutrality"},
)(ViolationDecided)
event(
    "audit.violation_resolved",
    queues=["registry.events"],
    description="A violation was resolved (`open_violations` left after this decision).",
    example={"finding_id": FINDING, "service_id": SID, "open_violations": 0, "audit_version": 2, "principle": "neutrality"},
)(ViolationDecided)


# ---- audit: the service's own voice, and citizen reports triaged (added in 1.2) --------------
@event(
    "audit.finding_escalated",
    description="A minor finding became a violation: its remediation deadline "
    "passed (`escalated_by` null) or an auditor escalated it. The decision itself follows as "
    "`audit.violation_confirmed`. Added in 1.2.",
    example={
        "finding_id": FINDING,
        "service_id": SID,
        "severity": "minor",
        "reason": "The waiting list is still not published.",
        "escalated_by": "auditor/inspection-35",
    },
)
@domain_event
class FindingEscalated:
    """A minor finding became a violation: at its deadline (`escalated_by` null) or by an auditor."""

    event_type: ClassVar[str]
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    severity: str = wire(fields.String(required=True, validate=validate.OneOf(SEVERITIES)))
    reason: str = wire(fields.String(required=True))
    escalated_by: str | None = wire(fields.String(load_default=None, allow_none=True), default=None)


@event(
    "audit.finding_answered",
    description="The service answered a finding with its remediation plan "
    "and the date it commits to (a new answer replaces the last). Added in 1.2.",
    example={
        "finding_id": FINDING,
        "service_id": SID,
        "plan": "The waiting list and its rules will be published on the parents' portal.",
        "due_on": "2027-01-15",
        "answered_by": f"service/{SID}",
    },
)
@domain_event
class FindingAnswered:
    """The service's remediation plan for a finding and the date it commits to."""

    event_type: ClassVar[str]
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    plan: str = wire(fields.String(required=True))
    due_on: str = wire(fields.Date(required=True))
    answered_by: str = wire(fields.String(required=True))


@event(
    "audit.remediation_reported",
    description="The service reported its remediation done; an auditor resolves the finding or escalates it. Added in 1.2.",
    example={
        "finding_id": FINDING,
        "service_id": SID,
        "reported_by": f"service/{SID}",
        "note": "Published on 2027-01-10: https://petitspas.example.org/liste-attente",
    },
)
@domain_event
class RemediationReported:
    """The service says its remediation is done; an auditor resolves or escalates."""

    event_type: ClassVar[str]
    finding_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    reported_by: str = wire(fields.String(required=True))
    note: str | None = wire(fields.String(load_default=None, allow_none=True), default=None)


@event(
    "audit.report_triaged",
    readers=["ext-vox-usagers"],
    description="A citizen report (usager.report_submitted, named by `report_event_id`) was triaged: "
    "`dismissed` by an auditor, or made part of a `finding` (by an auditor, or by the "
    "report threshold). Never the citizen's text. Added in 1.2.",
    example={
        "report_id": "7d3e1f0a-2b4c-4d5e-8f60-718293a4b5c6",
        "service_id": SID,
        "category": "refused_access",
        "outcome": "finding",
        "finding_id": FINDING,
        "counter_id": "FS-35-0042",
        "report_event_id": "0b8f6c2e-4d1a-4e7b-9c3d-5a6f7e8d9c01",
    },
)
@domain_event
class ReportTriaged:
    """A citizen report was dismissed or made part of a finding (never its text)."""

    event_type: ClassVar[str]
    report_id: str = wire(Id(required=True))
    service_id: str = wire(ServiceId(required=True))
    category: str = wire(fields.String(required=True, validate=validate.OneOf(REPORT_CATEGORIES)))
    outcome: str = wire(fields.String(required=True, validate=validate.OneOf(("dismissed", "finding"))))
    finding_id: str | None = wire(Id(load_default=None, allow_none=True), default=None)
    counter_id: str | None = wire(Id(load_default=None, allow_none=True), default=None)
    report_event_id: str | None = wire(
        fields.String(
            load_default=None,
            allow_none=True,
            metadata={"description": "the `event_id` of the usager.report_submitted the report came in"},
        ),
        default=None,
    )


# ---- audit: the journal's head, for others to hold (added in 1.2) ----------------------------
@event(
    "audit.journal_checkpoint",
    readers=["ext-journal-observers"],
    description="The head of audit's hash-chained journal: entry `seq` has hash `hash`. Hold it, and "
    "check later that an export of the journal (`spc export journal`, docs/verify-journal.md) "
    "still has that hash at that seq: the journal cannot have been rewritten up to there. "
    "Published at most every SPC_JOURNAL_CHECKPOINT_SECONDS (default 300), and only when "
    "events other than checkpoints were journaled since the last one (a checkpoint is "
    "journaled too, so it comes after the head it publishes). Added in 1.2.",
    example={
        "seq": 1042,
        "hash": "5d4b1a9e0c3f8e27b6a1d09c4e7f3b2a8c5d6e1f0a9b8c7d6e5f4a3b2c1d0e9f",
        "at": "2026-11-26T10:05:00+00:00",
    },
)
@domain_event
class JournalCheckpoint:
    """The journal's chain head as it stands: entry `seq` has hash `hash` (published so that
    others can hold it and check an export of the journal against it later)."""

    event_type: ClassVar[str]
    seq: int = wire(
        fields.Integer(
            required=True,
            strict=True,
            validate=validate.Range(min=1),
            metadata={"description": "the sequence number of the journal's newest entry"},
        )
    )
    hash: str = wire(
        fields.String(
            required=True,
            validate=validate.Regexp(r"^[0-9a-f]{64}$"),
            metadata={"description": "that entry's hash (SHA-256, lowercase hex)"},
        )
    )
    at: str = wire(fields.AwareDateTime(required=True, metadata={"description": "when the checkpoint was taken"}))


# ---- reminders (shared/sql/reminders.py) -----------------------------------------------------------
class ReminderDue(Payload):
    """A deadline crossed one of its thresholds: said once, ever (the reminder's id is its key)."""

    reminder_id = fields.String(
        required=True,
        validate=validate.Length(1, 120),
        metadata={"description": "`<kind>:<subject_id>:<due_on>`: one reminder per kind, subject and date, ever"},
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf(REMINDER_KINDS),
        metadata={
            "description": "a tranche's milestone due within SPC_REMINDER_DAYS or overdue (its evidence missing); the "
            "pact's term ending within 90 or 30 days; a pilot's evaluation within SPC_REMINDER_DAYS; "
            "a finding's remediation deadline within 7 days or passed"
        },
    )
    deadline = fields.String(required=True, validate=validate.OneOf(sorted(RULES)))
    service_id = ServiceId(required=True)
    subject_id = Id(required=True, metadata={"description": "the tranche, the service (its pact) or the finding"})
    due_on = fields.Date(required=True)
    days_left = fields.Integer(required=True, strict=True, metadata={"description": "negative: overdue"})
    title = fields.String(required=True, metadata={"description": "what falls due, in French (the e-mail's words)"})


_REMINDER = {
    "reminder_id": "milestone_due:t-2:2027-07-01",
    "kind": "milestone_due",
    "deadline": "milestone",
    "service_id": SID,
    "subject_id": "t-2",
    "due_on": "2027-07-01",
    "days_left": 14,
    "title": "Jalon « mid-year report » : pièces attendues pour le versement de 15 000,00 €",
}
for _producer, _what, _example in (
    (
        "registry",
        "the pact's term ending within 90 or 30 days, or a pilot's evaluation coming",
        {
            "reminder_id": "term_ending_90:" + SID + ":2029-12-31",
            "kind": "term_ending_90",
            "deadline": "term_end",
            "subject_id": SID,
            "due_on": "2029-12-31",
            "days_left": 90,
            "title": "Fin du pacte le 31/12/2029 : renouvellement à préparer",
        },
    ),
    ("funding", "a tranche's milestone due within SPC_REMINDER_DAYS, or overdue with its evidence missing", {}),
    (
        "audit",
        "a finding's remediation deadline within 7 days, or passed",
        {
            "reminder_id": "remediation_due:" + FINDING + ":2027-02-01",
            "kind": "remediation_due",
            "deadline": "remediation",
            "subject_id": FINDING,
            "due_on": "2027-02-01",
            "days_left": 7,
            "title": "Constat « égalité d'accès » : remédiation attendue le 01/02/2027",
        },
    ),
):
    event(
        f"{_producer}.reminder_due",
        queues=["registry.events"],
        description=f"A reminder: {_what}. Once per reminder, ever (across replicas and restarts). The registry "
        "e-mails it to the service's contact (SPC_SMTP_URL). Added in 1.3.",
        example={**_REMINDER, **_example},
    )(type(f"{_producer.title()}ReminderDue", (ReminderDue,), {}))
