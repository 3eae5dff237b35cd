"""Distribution's nameko entrypoints: run the use case the call names."""

from pathlib import Path

from spc.shared.sql.bootstrap import DEFAULT_PORTS, ServiceSpec
from spc.shared.web.http import api
from spc.shared.service.ops import SpcService
from spc.shared.web.pages import DesignSystemAssets

from . import handlers, page
from .exceptions import CounterNotFound, ServiceNotKnown
from .public import PublicDistribution
from .repository import DistributionUnitOfWork
from .schemas import CatalogueOut, CounterPage, CounterQuery, ListingsOut, RelayedReportIn, RelayedReportOut

AGENT = ("counter_agent",)  # a France Services agent, on its own counters (contract §4)


class DistributionService(PublicDistribution, DesignSystemAssets, SpcService):
    spec = ServiceSpec(
        "distribution",
        port=DEFAULT_PORTS["distribution"],
        unit_of_work=DistributionUnitOfWork,
        migrations=Path(__file__).parent / "migrations",
        standings=handlers.standings,
        holdings=handlers.holdings,
        consumers=handlers.CONSUMERS,
    )

    @api("GET", "/counters", query=CounterQuery, response=CounterPage, summary="France Services counters")
    def counters(self, call):
        return handlers.search_counters(self.store.uow(), **call.query)

    @api(
        "GET",
        "/counters/<string:counter_id>/catalogue",
        response=CatalogueOut,
        errors=(CounterNotFound,),
        scoped=AGENT,
        summary="The services listed at a counter now, and the counter itself",
    )
    def catalogue(self, call, counter_id):
        return handlers.counter_catalogue(self.store.uow(), counter_id)

    @api(
        "GET",
        "/counters/<string:counter_id>/catalogue.html",
        errors=(CounterNotFound,),
        scoped=AGENT,
        media_type="text/html",
        summary="The same catalogue as a printable page, in French",
    )
    def catalogue_page(self, call, counter_id):
        return page.as_response(handlers.counter_catalogue(self.store.uow(), counter_id))

    @api(
        "POST",
        "/counters/<string:counter_id>/reports",
        role="distribution_officer",
        scoped=AGENT,
        body=RelayedReportIn,
        response=RelayedReportOut,
        status=202,
        errors=(CounterNotFound, ServiceNotKnown),
        summary="Relay a visitor's report: it enters as usager.report_submitted, for audit",
    )
    def relay_report(self, call, counter_id):
        return handlers.relay_report(self.store.uow(call), counter_id, call.body)

    @api(
        "GET",
        "/services/<string:service_id>/listings",
        response=ListingsOut,
        errors=(ServiceNotKnown,),
        summary="A service's listings",
    )
    def listings(self, call, service_id):
        return handlers.service_listings(self.store.uow(), service_id)
