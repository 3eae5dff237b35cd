"""Funding's public read API (no token; shared/web/public_reads.py caches and bounds it): how much
public money each service was awarded and received, and whether its funding is frozen; each
programme's funder, legal basis and budget. No staff history, no name of who released a tranche,
no release reason or evidence text.

`GET /public/services/{service_id}/funding` alone answers "how much did this service receive,
and is it suspended?": `released_cents`, `status` and, while suspended, `suspended_since`."""

from marshmallow import Schema, fields

from spc.shared.core.answers import Answer, Moment, out
from spc.shared.web.http import PUBLIC, api
from spc.shared.core.lists import ListShape

from . import handlers
from .domain.model import FREEZING_STATUSES, TRANCHE_STATUSES
from .exceptions import ProgrammeNotFound
from .schemas import ProgrammeOut


class PublicProgrammeOut(ProgrammeOut):
    class Meta:
        exclude = ("history",)


class PublicProgrammeList(ListShape):
    items = fields.List(fields.Nested(PublicProgrammeOut), required=True)


class PublicTrancheOut(Schema):
    id = fields.String(required=True)
    amount_cents = fields.Integer(required=True)
    due_date = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "`scheduled`, `released`, `frozen` or `cancelled`"})
    released_at = Moment(required=True, allow_none=True)


class PublicGrantOut(Schema):
    id = fields.String(required=True)
    programme_id = fields.String(required=True, metadata={"description": "GET /public/programmes/{programme_id}"})
    awarded_cents = fields.Integer(required=True, attribute="total_cents")
    tranches = fields.List(fields.Nested(PublicTrancheOut), required=True)


def _cents(what):
    return fields.Integer(required=True, metadata={"description": f"what the service's {what}"})


class PublicFundingOut(Schema):
    service_id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "the service's standing, as funding follows the registry (`unknown` before it hears of it)"},
    )
    status_since = Moment(required=True, allow_none=True, metadata={"description": "when that status began (null: not recorded)"})
    suspended_since = Moment(
        required=True, allow_none=True, metadata={"description": "while suspended: since when; null otherwise"}
    )
    reason = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "while frozen (suspended, expired): the registry's reason, e.g. `a violation of "
            "neutrality is open (finding …)`; null otherwise"
        },
    )
    frozen = fields.Boolean(required=True, metadata={"description": "no tranche may be released"})
    awarded_cents = _cents("grants add up to (released + scheduled + frozen + cancelled)")
    released_cents = _cents("released tranches add up to: the money it received")
    scheduled_cents = _cents("scheduled tranches add up to")
    frozen_cents = _cents("frozen tranches add up to (released if it is reinstated)")
    cancelled_cents = _cents("cancelled tranches add up to (given back to their programmes)")
    grants = fields.List(fields.Nested(PublicGrantOut), required=True)


class PublicFunding:
    """Funding's public entrypoints (mixed into FundingService)."""

    @api(
        "GET",
        "/public/services/<string:service_id>/funding",
        role=PUBLIC,
        response=PublicFundingOut,
        summary="Public: how much the service was awarded and received, and whether it is suspended (no token)",
    )
    def public_service_funding(self, call, service_id):
        return public_funding(self.store.uow(), service_id)

    @api(
        "GET",
        "/public/programmes",
        role=PUBLIC,
        response=PublicProgrammeList,
        summary="Public: the programmes, their funders, legal bases and budgets (no token)",
    )
    def public_programmes(self, call):
        return handlers.list_programmes(self.store.uow())

    @api(
        "GET",
        "/public/programmes/<string:programme_id>",
        role=PUBLIC,
        response=PublicProgrammeOut,
        errors=(ProgrammeNotFound,),
        summary="Public: a programme, its funder, legal basis and budget (no token)",
    )
    def public_programme(self, call, programme_id):
        return public_programme(self.store.uow(), programme_id)


def public_programme(uow, programme_id):
    """The programme as staff see it, without who did what (its history)."""
    with uow:
        programme = uow.funding.programme(programme_id)
        cents = uow.funding.tranche_cents_by_programme([programme_id]).get(programme_id, {})
        return out(PublicProgrammeOut).dump(handlers.programme_seen(programme, cents))


def public_funding(uow, service_id):
    with uow:
        return out(PublicFundingOut).dump(public_funding_seen(service_id, uow.funding.account(service_id)))


def public_funding_seen(service_id, account):
    """The service's funding as PublicFundingOut dumps it, with its sums."""
    grants = account.grants if account is not None else []
    status = account.status if account is not None else "unknown"
    since = account.status_since if account is not None else None
    frozen = status in FREEZING_STATUSES
    totals = {s: sum(t.amount_cents for g in grants for t in g.tranches if t.status == s) for s in TRANCHE_STATUSES}
    return Answer(
        account,
        service_id=service_id,
        status=status,
        status_since=since,
        suspended_since=since if status == "suspended" else None,
        reason=account.status_reason if frozen else None,
        frozen=frozen,
        grants=grants,
        awarded_cents=sum(totals.values()),
        **{f"{s}_cents": c for s, c in totals.items()},
    )
