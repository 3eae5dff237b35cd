"""The registry's public read API (no token; shared/web/public_reads.py caches and bounds it): the
services that hold a pact (approved at least once: a `submitted` one is not shown), with what
their pact commits them to, where, for how long, and their standing in plain words. No personal
data: no contact e-mail, no governance or signatory person, no referral text (it may name one),
no staff history; of the signatories only the public counterpart's name and kind."""

from marshmallow import Schema, fields, validate

from spc.shared.core.answers import Answer, Moment, out
from spc.shared.web.http import PUBLIC, api

from .domain.model import EXPIRED, SUSPENDED
from .exceptions import ServiceNotFound
from .schemas import CommitmentOut, ListQuery, TerritoriesOut

LISTED = ("active", "suspended", "expired", "revoked")  # a service shown publicly is in one of these


class PublicServiceQuery(ListQuery):
    status = fields.String(validate=validate.OneOf(LISTED))


class PublicCounterpartOut(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "`state` or `collectivite`"})


class PublicPactOut(Schema):
    version = fields.Integer(required=True, metadata={"description": "the pact's current version"})
    complete = fields.Boolean(
        required=True,
        metadata={"description": "false for a contract-v1 pact (no commitment texts, governance, signatories or term)"},
    )
    signed_on = fields.String(required=True, allow_none=True)
    starts_on = fields.String(required=True, allow_none=True)
    ends_on = fields.String(required=True, allow_none=True)
    pilot = fields.Boolean(required=True, allow_none=True, metadata={"description": "an expérimentation"})
    evaluation_on = fields.String(required=True, allow_none=True)
    public_counterpart = fields.Nested(
        PublicCounterpartOut,
        required=True,
        allow_none=True,
        metadata={"description": "the State administration or collectivité that signed the pact"},
    )


class SuspensionOut(Schema):
    since = Moment(
        required=True,
        allow_none=True,
        attribute="suspended_since",
        metadata={"description": "null for a suspension recorded before it was kept"},
    )
    principle = fields.String(
        required=True,
        allow_none=True,
        attribute="suspension_principle",
        metadata={"description": "the principle of the violation that suspended the service"},
    )
    open_violations = fields.Integer(required=True)


class PublicServiceOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    siren = fields.String(required=True, allow_none=True)
    rna = fields.String(required=True, allow_none=True)
    mission = fields.String(required=True)
    domains = fields.List(fields.String(), required=True)
    territories = fields.Nested(TerritoriesOut, required=True)
    commitments = fields.List(
        fields.Nested(CommitmentOut),
        required=True,
        metadata={"description": "each principle with the service's own text (null in a contract-v1 pact)"},
    )
    pact = fields.Nested(PublicPactOut, required=True)
    status = fields.String(required=True, validate=validate.OneOf(LISTED))
    standing = fields.String(
        required=True,
        metadata={
            "description": "the status in plain words, e.g. `suspended since 2026-11-20: a violation of neutrality is open`"
        },
    )
    suspension = fields.Nested(
        SuspensionOut,
        required=True,
        allow_none=True,
        metadata={"description": "while suspended: since when, and the principle at stake; null otherwise"},
    )


class PublicServicePage(Schema):
    items = fields.List(fields.Nested(PublicServiceOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class PublicRegistry:
    """The registry's public entrypoints (mixed into RegistryService)."""

    @api(
        "GET",
        "/public/services",
        role=PUBLIC,
        query=PublicServiceQuery,
        response=PublicServicePage,
        summary="Public: the services holding a pact, filtered and paginated (no token)",
    )
    def public_services(self, call):
        return public_services(self.store.uow(), **call.query)

    @api(
        "GET",
        "/public/services/<string:service_id>",
        role=PUBLIC,
        response=PublicServiceOut,
        errors=(ServiceNotFound,),
        summary="Public: a service, what its pact commits it to, and its standing in plain words (no token)",
    )
    def public_service(self, call, service_id):
        return public_service(self.store.uow(), service_id)


def public_services(uow, limit=50, offset=0, status=None, **filters):
    with uow:
        rows, total = uow.services.list(status=status or LISTED, limit=limit, offset=offset, **filters)
        return out(PublicServicePage).dump(
            {"items": [public_seen(s) for s in rows], "total": total, "limit": limit, "offset": offset}
        )


def public_service(uow, service_id):
    with uow:
        service = uow.services.get(service_id)
        if service.status not in LISTED:
            raise ServiceNotFound(f"no service {service_id}", {"service_id": service_id})
        return public_answer(service)


def public_answer(service):
    """The service as the public sees it (PublicServiceOut)."""
    return out(PublicServiceOut).dump(public_seen(service))


def public_seen(service):
    """The service as PublicServiceOut dumps it: its pact's public parts (of the signatories, the
    public counterpart's name and kind only), its standing in words, its suspension."""
    pact = service.pact
    term, signatories = pact.term or {}, pact.signatories or {}
    return Answer(
        service,
        mission=pact.mission,
        domains=pact.domains,
        territories=pact.territories,
        commitments=[{"principle": p, "text": t} for p, t in pact.commitments.items()],
        pact={
            "version": service.pact_version,
            "complete": not pact.missing(),
            "signed_on": signatories.get("signed_on"),
            "starts_on": term.get("starts_on"),
            "ends_on": term.get("ends_on"),
            "pilot": term.get("pilot"),
            "evaluation_on": term.get("evaluation_on"),
            "public_counterpart": signatories.get("public_counterpart") or None,
        },
        standing=standing_in_words(service),
        suspension=service if service.status == SUSPENDED else None,
    )


def standing_in_words(service):
    """`suspended since 2026-11-20: a violation of neutrality is open`, `active`, ..."""
    if service.status == SUSPENDED:
        since = f" since {service.suspended_since.date().isoformat()}" if service.suspended_since else ""
        principle, others = service.suspension_principle, service.open_violations - 1
        if principle:
            cause = f"a violation of {principle.replace('_', ' ')} is open"
            cause += f" (and {others} other violation{'s' if others > 1 else ''})" if others > 0 else ""
        else:
            cause = f"{others + 1} violations are open" if others > 0 else "a violation is open"
        return f"suspended{since}: {cause}"
    if service.status == EXPIRED and service.term_ends_on:
        return f"expired: the pact's term ended on {service.term_ends_on.isoformat()}"
    return service.status
