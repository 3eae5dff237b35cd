"""Distribution's nameko entrypoints: load, call a handler, dump."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import BULK, URGENT, apply_once, consume_events
from spc.shared.http import api, json_response
from spc.shared.ops import SpcService

from . import handlers
from .exceptions import CounterNotFound, ServiceNotKnown
from .repository import DistributionUnitOfWork
from .schemas import CounterQuery


class DistributionService(SpcService):
    spec = ServiceSpec("distribution", port=8003, unit_of_work=DistributionUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("GET", "/counters", query=CounterQuery, summary="France Services counters")
    def counters(self, request):
        self.auth.require(request)
        query = CounterQuery().load(request.args.to_dict())
        return json_response(handlers.search_counters(self.store.uow(), **query))

    @api("GET", "/counters/<string:counter_id>/catalogue", errors=(CounterNotFound,),
         summary="The services listed at a counter now")
    def catalogue(self, request, counter_id):
        self.auth.require(request)
        return json_response(handlers.counter_catalogue(self.store.uow(), counter_id))

    @api("GET", "/services/<string:service_id>/listings", errors=(ServiceNotKnown,),
         summary="A service's listings")
    def listings(self, request, service_id):
        self.auth.require(request)
        return json_response(handlers.service_listings(self.store.uow(), service_id))

    @consume_events(topology.DISTRIBUTION_EVENTS, handlers=handlers.STANDING_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.STANDING_HANDLERS[event.event_type], self.metrics)

    @consume_events(topology.DISTRIBUTION_INBOUND, handlers=handlers.COUNTER_HANDLERS, lane=BULK)
    def on_inbound(self, event):
        apply_once(self.store.uow(), event, handlers.COUNTER_HANDLERS[event.event_type], self.metrics)
