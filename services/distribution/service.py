"""Distribution's nameko entrypoints: run the use case the call names."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import BULK, URGENT, apply_once, consume_events
from spc.shared.http import api
from spc.shared.ops import SpcService

from . import handlers
from .exceptions import CounterNotFound, ServiceNotKnown
from .repository import DistributionUnitOfWork
from .schemas import CatalogueOut, CounterPage, CounterQuery, ListingsOut


class DistributionService(SpcService):
    spec = ServiceSpec("distribution", port=8003, unit_of_work=DistributionUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("GET", "/counters", query=CounterQuery, response=CounterPage, summary="France Services counters")
    def counters(self, call):
        return handlers.search_counters(self.store.uow(), **call.query)

    @api("GET", "/counters/<string:counter_id>/catalogue", response=CatalogueOut, errors=(CounterNotFound,),
         summary="The services listed at a counter now")
    def catalogue(self, call, counter_id):
        return handlers.counter_catalogue(self.store.uow(), counter_id)

    @api("GET", "/services/<string:service_id>/listings", response=ListingsOut, errors=(ServiceNotKnown,),
         summary="A service's listings")
    def listings(self, call, service_id):
        return handlers.service_listings(self.store.uow(), service_id)

    @consume_events(topology.DISTRIBUTION_EVENTS, handlers=handlers.STANDING_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.STANDING_HANDLERS[event.event_type], self.metrics)

    @consume_events(topology.DISTRIBUTION_INBOUND, handlers=handlers.COUNTER_HANDLERS, lane=BULK)
    def on_inbound(self, event):
        apply_once(self.store.uow(), event, handlers.COUNTER_HANDLERS[event.event_type], self.metrics)
