"""The registry's HTTP bodies, queries and answers. The pact's rules that a schema can say are
said here too (so openapi.yaml shows them); the domain (domain/pact.py) checks them all."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from spc.shared.core.events import PRINCIPLES, SERVICE_STATUSES

from spc.shared.core.lists import ListShape
from spc.shared.core.answers import Moment
from spc.shared.sql.staff import ActionOut

from .domain.pact import COMMUNE, COUNTERPART_KINDS, DEPARTMENT, EMAIL, LEGAL_FORMS, NEEDS_SIREN, REGION, RNA, SIREN

# the formats name what the pattern cannot check (a code of the COG, the Luhn check); fuzzers
# learn them from tests/api/formats.py
Department = fields.String(
    validate=validate.Regexp(DEPARTMENT),
    metadata={
        "format": "cog-department",
        "description": "INSEE département code (COG: 01–95 without 20, 2A, 2B, 971–976; overseas collectivities "
        "975, 977, 978, 984, 986–989); unknown codes are refused",
    },
)
Commune = fields.String(
    validate=validate.Regexp(COMMUNE),
    metadata={
        "format": "cog-commune",
        "description": "INSEE commune code (COG 2026: a current commune or a municipal arrondissement of Paris, "
        "Lyon or Marseille); it must lie in one of the départements or régions given with it",
    },
)
Region = fields.String(
    validate=validate.Regexp(REGION), metadata={"format": "cog-region", "description": "INSEE région code (COG)"}
)
Text = fields.String(required=True, validate=validate.Length(1, 2000))
Name = fields.String(required=True, validate=validate.Length(1, 200))
Email = fields.String(validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])
Siren = fields.String(
    validate=validate.Regexp(SIREN),
    metadata={"format": "siren", "description": "9 digits passing the Luhn check, not 000000000 (La Poste's 356000000 accepted)"},
)
_COMMITMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["principle", "text"],
    "properties": {
        "principle": {"type": "string", "enum": list(PRINCIPLES)},
        "text": {"type": "string", "minLength": 1, "maxLength": 2000},
    },
}


class CommitmentField(fields.Field):
    """A commitment: `{"principle", "text"}` (the full pact), or a principle's name (contract v1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if value not in PRINCIPLES:
                raise ValidationError(f"must be one of {', '.join(PRINCIPLES)}")
            return value
        if not isinstance(value, dict):
            raise ValidationError("a principle's name, or an object with principle and text")
        return CommitmentIn().load(value)


class CommitmentIn(Schema):
    principle = fields.String(required=True, validate=validate.OneOf(PRINCIPLES))
    text = Text


class TerritoriesIn(Schema):
    departments = fields.List(Department, load_default=list, validate=validate.Length(max=200))
    communes = fields.List(Commune, load_default=list, validate=validate.Length(max=2000))
    regions = fields.List(Region, load_default=list, validate=validate.Length(max=30))
    national = fields.Boolean(load_default=False, metadata={"description": "the whole country"})

    # what marshmallow's fields cannot say, merged into openapi.yaml (the domain checks it)
    openapi_extra = {
        "anyOf": [
            {"required": ["departments"], "properties": {"departments": {"minItems": 1}}},
            {"required": ["communes"], "properties": {"communes": {"minItems": 1}}},
            {"required": ["regions"], "properties": {"regions": {"minItems": 1}}},
            {"required": ["national"], "properties": {"national": {"const": True}}},
        ],
        "description": "at least one département, commune or région, or national scope",
    }


class PersonIn(Schema):
    name = Name
    role = fields.String(validate=validate.Length(1, 200))
    email = Email
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 .()-]{6,30}$"))


class ResponsibleIn(PersonIn):
    role = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.String(required=True, validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])


class ContactIn(PersonIn):
    email = fields.String(required=True, validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])


class BodyIn(Schema):
    name = Name
    how_chosen = fields.String(
        required=True, validate=validate.Length(1, 1000), metadata={"description": "how its members are chosen"}
    )


class GovernanceIn(Schema):
    bodies = fields.List(
        fields.Nested(BodyIn),
        required=True,
        validate=validate.Length(1, 20),
        metadata={"description": "who decides: the bodies and how they are chosen"},
    )
    user_representation = fields.String(
        required=True, validate=validate.Length(1, 2000), metadata={"description": "how the service's users are represented"}
    )
    responsible = fields.Nested(ResponsibleIn, required=True, metadata={"description": "the person responsible for the pact"})
    data_protection_contact = fields.Nested(ContactIn, required=True)


class CounterpartIn(Schema):
    name = Name
    kind = fields.String(
        required=True,
        validate=validate.OneOf(COUNTERPART_KINDS),
        metadata={"description": "a State administration or a collectivité"},
    )
    siren = Siren
    cog = fields.String(
        validate=validate.Regexp(r"^[0-9AB]{2,5}$"),
        metadata={"description": "a collectivité's COG code (commune, département or région)"},
    )


class SignatoriesIn(Schema):
    legal_representative = fields.Nested(
        ResponsibleIn, required=True, metadata={"description": "the service's legal representative"}
    )
    public_counterpart = fields.Nested(CounterpartIn, required=True)
    signed_on = fields.Date(required=True)


class TermIn(Schema):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(
        required=True, metadata={"description": "after it, the service is no longer active until an amendment renews the term"}
    )
    pilot = fields.Boolean(load_default=False, metadata={"description": "an expérimentation"})
    evaluation_on = fields.Date(metadata={"description": "a pilot's evaluation date (required for a pilot)"})


def _when_legal_form(forms, then):
    return {"if": {"required": ["legal_form"], "properties": {"legal_form": {"enum": list(forms)}}}, "then": then}


_GIVEN, _ABSENT = {"type": "string"}, {"type": "null"}


class RegisterServiceIn(Schema):
    # the identifiers each legal form has (services/registry/domain/pact.py, _identity_problems),
    # merged into openapi.yaml; the Luhn check and the COG are said on the fields
    openapi_extra = {
        "allOf": [
            _when_legal_form(NEEDS_SIREN, {"required": ["siren"], "properties": {"siren": _GIVEN, "rna": _ABSENT}}),
            _when_legal_form(
                ["association"],
                {
                    "anyOf": [
                        {"required": ["siren"], "properties": {"siren": _GIVEN}},
                        {"required": ["rna"], "properties": {"rna": _GIVEN}},
                    ]
                },
            ),
            _when_legal_form(
                ["informal_collective"],
                {
                    "properties": {"siren": _ABSENT, "rna": _ABSENT},
                    "anyOf": [
                        {"required": ["referent"]},
                        {"required": ["governance"], "properties": {"governance": {"required": ["responsible"]}}},
                    ],
                },
            ),
        ]
    }

    name = fields.String(required=True, validate=validate.Length(1, 300))
    legal_form = fields.String(
        required=True,
        validate=validate.OneOf(LEGAL_FORMS),
        metadata={
            "description": "an association gives its RNA number or SIREN; cooperative, SCIC, SCOP, foundation, "
            "company and public body their SIREN; an informal collective neither, and a referent"
        },
    )
    siren = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(SIREN),
        metadata={"format": "siren", "description": "9 digits passing the Luhn check, not 000000000"},
    )
    rna = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(RNA),
        metadata={"description": "RNA number: W and 9 digits (associations only)"},
    )
    mission = fields.String(required=True, validate=validate.Length(1, 5000))
    domains = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list, validate=validate.Length(max=50))
    territories = fields.Nested(TerritoriesIn, required=True)
    commitments = fields.List(
        CommitmentField(
            metadata={
                "item": "{principle, text} (contract v1: principle names)",
                "oneOf": [
                    {"type": "string", "enum": list(PRINCIPLES), "description": "contract v1: the principle's name"},
                    dict(_COMMITMENT, description="the principle and the service's own text of how it applies it"),
                ],
            }
        ),
        validate=validate.Length(1, len(PRINCIPLES)),
        metadata={
            "description": "the full pact: every principle, each with the service's text. Contract v1 "
            "(still accepted, marked incomplete): principle names; omitted = all of them"
        },
    )
    contact_email = fields.String(required=True, validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])
    referent = fields.Nested(ContactIn, metadata={"description": "an informal collective's referent"})
    governance = fields.Nested(GovernanceIn)
    signatories = fields.Nested(SignatoriesIn)
    term = fields.Nested(TermIn)
    referral = fields.String(
        validate=validate.Length(1, 1000),
        metadata={
            "description": "how a France Services agent refers a person to the service (phone, hours, "
            "what to bring); shown in the counters' catalogues"
        },
    )

    @validates_schema
    def _one_form(self, data, **kwargs):
        given = data.get("commitments") or []
        if any(isinstance(c, str) for c in given) and any(isinstance(c, dict) for c in given):
            raise ValidationError("give every commitment with its text, or (contract v1) names only", "commitments")


class AmendmentIn(Schema):
    territories = fields.Nested(TerritoriesIn)
    commitments = fields.List(
        fields.Nested(CommitmentIn),
        validate=validate.Length(1, len(PRINCIPLES)),
        metadata={"description": "every principle with its text (replaces them all)"},
    )
    governance = fields.Nested(GovernanceIn)
    signatories = fields.Nested(SignatoriesIn)
    term = fields.Nested(TermIn, metadata={"description": "a renewal: a later `ends_on`"})
    contact_email = fields.String(validate=[validate.Length(3, 320), validate.Regexp(EMAIL)])
    referral = fields.String(validate=validate.Length(1, 1000))
    reason = fields.String(
        required=True,
        validate=validate.Length(1, 2000),
        metadata={"description": "why the pact changes (kept with the amendment)"},
    )

    openapi_extra = {
        "minProperties": 2,
        "description": "the parts of the pact that change (each replaced "
        "whole), and the reason; the amended pact must meet every rule of a pact",
    }


class DecisionIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 2000))


class PactQuery(Schema):
    version = fields.Integer(
        validate=validate.Range(1, 100_000), metadata={"description": "a pact version (default: the current one)"}
    )


class RevokeIn(Schema):
    reason = fields.String(load_default="", validate=validate.Length(0, 2000))


class ListQuery(Schema):
    status = fields.String(validate=validate.OneOf(SERVICE_STATUSES))
    department = fields.String(
        validate=validate.Length(1, 3),
        metadata={"description": "services serving this département, whole or in part (national ones included)"},
    )
    commune = fields.String(
        validate=validate.Regexp(COMMUNE),
        metadata={"description": "services serving this commune: named, or covering its département, or national"},
    )
    principle = fields.String(
        validate=validate.OneOf(PRINCIPLES), metadata={"description": "services whose pact commits to this principle"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 100_000))


class TerritoriesOut(Schema):
    departments = fields.List(fields.String())
    communes = fields.List(fields.String())
    regions = fields.List(fields.String())
    national = fields.Boolean()


class IdentityOut(Schema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(["verified", "mismatch", "not_found", "unverified", "not_applicable"]),
        metadata={
            "description": "what the national registries say of the declared legal form, SIREN and RNA: verified; "
            "mismatch (`fields`); not_found; unverified (not asked yet, or they could not answer: "
            "asked again later); not_applicable (an informal collective)"
        },
    )
    fields_ = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "what disagrees, and what the registry says"},
    )
    source = fields.String(allow_none=True, metadata={"description": "the registry asked, or why none was"})
    checked_at = Moment(allow_none=True, metadata={"description": "when the registries were last asked"})


class ApproveIn(Schema):
    reason = fields.String(
        load_default="",
        validate=validate.Length(0, 2000),
        metadata={
            "description": "why approve although the registries disagree with the declared identity "
            "(required then: 409 identity_mismatch without it)"
        },
    )


class ServiceOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    siren = fields.String(allow_none=True)
    rna = fields.String(allow_none=True)
    mission = fields.String(required=True)
    domains = fields.List(fields.String(), required=True)
    territories = fields.Nested(TerritoriesOut, required=True)
    commitments = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the principles committed to (their texts: GET /services/{id}/pact)"},
    )
    contact_email = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(SERVICE_STATUSES))
    status_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "the standing's version"})
    open_violations = fields.Integer(required=True)
    pact_version = fields.Integer(required=True, metadata={"description": "the pact's current version"})
    pact_missing = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "what a complete pact still needs (empty when complete; a contract-v1 pact misses "
            "its texts, governance, signatories and term)"
        },
    )
    term_ends_on = fields.Date(allow_none=True, metadata={"description": "end of the pact's term (date)"})
    identity = fields.Nested(
        IdentityOut, metadata={"description": "the national registries' word on the declared identity (added in 1.3)"}
    )
    history = fields.List(
        fields.Nested(ActionOut),
        metadata={"description": "who did what to it through the admin API, oldest first (single-resource answers)"},
    )


class ServicePage(Schema):
    items = fields.List(fields.Nested(ServiceOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class CommitmentOut(Schema):
    principle = fields.String(required=True)
    text = fields.String(allow_none=True, required=True)


class PersonOut(Schema):
    name = fields.String(required=True)
    role = fields.String()
    email = fields.String()
    phone = fields.String()


class BodyOut(Schema):
    name = fields.String(required=True)
    how_chosen = fields.String(required=True)


class GovernanceOut(Schema):
    bodies = fields.List(fields.Nested(BodyOut), required=True)
    user_representation = fields.String(required=True)
    responsible = fields.Nested(PersonOut, required=True)
    data_protection_contact = fields.Nested(PersonOut, required=True)


class CounterpartOut(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True)
    siren = fields.String()
    cog = fields.String()


class SignatoriesOut(Schema):
    legal_representative = fields.Nested(PersonOut, required=True)
    public_counterpart = fields.Nested(CounterpartOut, required=True)
    signed_on = fields.String(required=True)


class TermOut(Schema):
    starts_on = fields.String(required=True)
    ends_on = fields.String(required=True)
    pilot = fields.Boolean(required=True)
    evaluation_on = fields.String()


class PactDocumentOut(Schema):
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    siren = fields.String(allow_none=True)
    rna = fields.String(allow_none=True)
    mission = fields.String(required=True)
    contact_email = fields.String(required=True)
    domains = fields.List(fields.String(), required=True)
    territories = fields.Nested(TerritoriesOut, required=True)
    commitments = fields.List(fields.Nested(CommitmentOut), required=True)
    referent = fields.Nested(PersonOut, allow_none=True)
    governance = fields.Nested(GovernanceOut, allow_none=True)
    signatories = fields.Nested(SignatoriesOut, allow_none=True)
    term = fields.Nested(TermOut, allow_none=True)
    referral = fields.String(allow_none=True)


class PactVersionOut(Schema):
    version = fields.Integer(required=True)
    amendment_id = fields.String(allow_none=True, required=True)
    recorded_at = Moment(required=True)
    recorded_by = fields.String(required=True)


class PactOut(Schema):
    service_id = fields.String(required=True)
    version = fields.Integer(required=True)
    current = fields.Boolean(required=True)
    recorded_at = Moment(required=True)
    recorded_by = fields.String(required=True)
    amendment_id = fields.String(allow_none=True, required=True)
    complete = fields.Boolean(required=True)
    missing = fields.List(fields.String(), required=True)
    pact = fields.Nested(PactDocumentOut, required=True)
    versions = fields.List(
        fields.Nested(PactVersionOut), required=True, metadata={"description": "every version of the pact, oldest first"}
    )


class AmendmentOut(Schema):
    id = fields.String(required=True)
    service_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("proposed", "approved", "rejected")))
    changes = fields.Dict(required=True, metadata={"description": "the parts of the pact it replaces"})
    reason = fields.String(required=True)
    base_version = fields.Integer(required=True, metadata={"description": "the pact version it was proposed on"})
    pact_version = fields.Integer(
        allow_none=True, required=True, metadata={"description": "the pact version it made, once approved"}
    )
    proposed_by = fields.String(required=True)
    proposed_at = Moment(required=True)
    decided_by = fields.String(allow_none=True, required=True)
    decided_at = Moment(allow_none=True, required=True)
    decision_reason = fields.String(allow_none=True, required=True)
    history = fields.List(fields.Nested(ActionOut))


class AmendmentPage(ListShape):
    service_id = fields.String(required=True)
    items = fields.List(fields.Nested(AmendmentOut), required=True)


class WebhookIn(Schema):
    """What Démarches Simplifiées posts to a démarche's webhook (a form): a poke, never trusted
    for content: the dossier is read again from DS's API."""

    class Meta:
        unknown = EXCLUDE

    dossier_id = fields.Integer(
        required=True, strict=False, validate=validate.Range(1, 2**31 - 1), metadata={"description": "the dossier's number"}
    )
    procedure_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(0, 40),
        metadata={"description": "the démarche's number (not used: the dossier says it)"},
    )
    state = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 40))
    updated_at = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 60))


class DsDossierOut(Schema):
    number = fields.Integer(required=True)
    demarche = fields.Integer(required=True)
    state = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    service_id = fields.String(allow_none=True, metadata={"description": "the service it made (null: none yet)"})
    problem = fields.String(allow_none=True, metadata={"description": "why it is parked (the champ at fault)"})


class DsDossierPage(ListShape):
    items = fields.List(fields.Nested(DsDossierOut), required=True)


class DossierReadOut(Schema):
    number = fields.Integer(required=True)
    outcome = fields.String(
        required=True,
        metadata={
            "description": "applied, unchanged, duplicate (that state and change were applied before), parked "
            "(see GET /ds/dossiers), or deferred (DS could not be asked: polling catches up)"
        },
    )
