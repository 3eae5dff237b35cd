"""Distribution's public read API (no token; shared/web/public_reads.py caches and bounds it): the
France Services counters and the services listed at each now. The staff views without what may
name a person: a counter's e-mail, a service's contact e-mail and referral text."""

from marshmallow import Schema, fields

from spc.shared.web.http import PUBLIC, api
from spc.shared.core.lists import ListShape, alias

from . import handlers
from .exceptions import CounterNotFound
from .schemas import CounterOut, CounterQuery, ListedService

PRIVATE_COUNTER = ("email",)
PRIVATE_LISTED = ("contact_email", "referral")


class PublicCounterOut(CounterOut):
    class Meta:
        exclude = PRIVATE_COUNTER


class PublicCounterPage(Schema):
    items = fields.List(fields.Nested(PublicCounterOut), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class PublicListedService(ListedService):
    class Meta:
        exclude = PRIVATE_LISTED


class PublicCatalogueOut(ListShape):
    counter = fields.Nested(PublicCounterOut, required=True)
    items = fields.List(
        fields.Nested(PublicListedService),
        required=True,
        metadata={"description": "the services listed there now: GET /public/services/{service_id} (registry) says more"},
    )
    services = fields.List(fields.Nested(PublicListedService), required=True, metadata=alias("services"))


class PublicDistribution:
    """Distribution's public entrypoints (mixed into DistributionService)."""

    @api(
        "GET",
        "/public/counters",
        role=PUBLIC,
        query=CounterQuery,
        response=PublicCounterPage,
        summary="Public: France Services counters, filtered and paginated (no token)",
    )
    def public_counters(self, call):
        return public_counters(self.store.uow(), **call.query)

    @api(
        "GET",
        "/public/counters/<string:counter_id>/catalogue",
        role=PUBLIC,
        response=PublicCatalogueOut,
        errors=(CounterNotFound,),
        summary="Public: the services listed at a counter now (no token)",
    )
    def public_catalogue(self, call, counter_id):
        return public_catalogue(self.store.uow(), counter_id)


def public_counters(uow, **query):
    return handlers.search_counters(uow, PublicCounterPage, **query)


def public_catalogue(uow, counter_id):
    return handlers.counter_catalogue(uow, counter_id, PublicCatalogueOut)
