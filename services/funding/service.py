"""Funding's nameko entrypoints: load, build a command, call a handler, dump."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import URGENT, apply_once, consume_events
from spc.shared.http import api, json_response, read_json
from spc.shared.ops import SpcService

from . import handlers
from .domain import commands
from .exceptions import (AlreadyReleased, FundingFrozen, InvalidAmount, OverBudget, ProgrammeNotFound,
                         ServiceNotActive, ServiceNotActiveYet, TrancheCancelled, TrancheNotFound)
from .repository import FundingUnitOfWork
from .schemas import GrantIn, ProgrammeIn


class FundingService(SpcService):
    spec = ServiceSpec("funding", port=8002, unit_of_work=FundingUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("POST", "/programmes", role="funding_officer", body=ProgrammeIn, status=201, errors=(InvalidAmount,),
         summary="Open a programme with its budget envelope")
    def create_programme(self, request):
        actor = self.auth.require(request, "funding_officer")
        body = ProgrammeIn().load(read_json(request))
        cmd = commands.CreateProgramme(body["name"], body["budget_cents"], str(actor))
        return json_response(handlers.create_programme(self.store.uow(), cmd), 201)

    @api("GET", "/programmes", summary="Programmes")
    def list_programmes(self, request):
        self.auth.require(request)
        return json_response(handlers.list_programmes(self.store.uow()))

    @api("GET", "/programmes/<string:programme_id>", errors=(ProgrammeNotFound,),
         summary="A programme and its budget")
    def get_programme(self, request, programme_id):
        self.auth.require(request)
        return json_response(handlers.get_programme(self.store.uow(), programme_id))

    @api("POST", "/grants", role="funding_officer", body=GrantIn, status=201,
         errors=(ProgrammeNotFound, InvalidAmount, OverBudget, ServiceNotActive, ServiceNotActiveYet),
         summary="Grant an active service money in tranches, within the programme's budget")
    def award_grant(self, request):
        actor = self.auth.require(request, "funding_officer")
        body = GrantIn().load(read_json(request))
        cmd = commands.AwardGrant(body["programme_id"], body["service_id"], body["tranches"], str(actor))
        return json_response(handlers.award_grant(self.store.uow(), cmd), 201)

    @api("POST", "/tranches/<string:tranche_id>/release", role="funding_officer",
         errors=(TrancheNotFound, AlreadyReleased, FundingFrozen, TrancheCancelled),
         summary="Release a tranche: the payment order, once per tranche, ever")
    def release_tranche(self, request, tranche_id):
        actor = self.auth.require(request, "funding_officer")
        cmd = commands.ReleaseTranche(tranche_id, str(actor))
        return json_response(handlers.release_tranche(self.store.uow(), cmd))

    @api("GET", "/services/<string:service_id>/funding", summary="A service's funding: frozen or not, grants, tranches")
    def service_funding(self, request, service_id):
        self.auth.require(request)
        return json_response(handlers.service_funding(self.store.uow(), service_id))

    @consume_events(topology.FUNDING_EVENTS, handlers=handlers.EVENT_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.EVENT_HANDLERS[event.event_type], self.metrics)
