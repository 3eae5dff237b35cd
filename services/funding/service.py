"""Funding's nameko entrypoints: build a command from the call, run its use case."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import URGENT, apply_once, consume_events
from spc.shared.http import api
from spc.shared.ops import SpcService

from . import handlers
from .domain import commands
from .exceptions import (AlreadyReleased, FundingFrozen, InvalidAmount, InvalidFunder, OverBudget, ProgrammeNotFound,
                         ReleaseBeforeDueDate, ServiceNotActive, ServiceNotActiveYet, TrancheCancelled,
                         TrancheNotFound)
from .public import PublicFunding
from .repository import FundingUnitOfWork
from .schemas import (FundingOut, GrantIn, GrantOut, ProgrammeIn, ProgrammeList, ProgrammeOut, ReleaseIn,
                      TrancheOut)


class FundingService(PublicFunding, SpcService):
    spec = ServiceSpec("funding", port=8002, unit_of_work=FundingUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("POST", "/programmes", role="funding_officer", body=ProgrammeIn, response=ProgrammeOut, status=201,
         errors=(InvalidAmount, InvalidFunder), summary="Open a programme with its budget envelope, its funder "
         "and its legal basis")
    def create_programme(self, call):
        body = call.body
        cmd = commands.CreateProgramme(body["name"], body["budget_cents"], call.by, body["funder"], body["legal_basis"])
        return handlers.create_programme(self.store.uow(call), cmd)

    @api("GET", "/programmes", response=ProgrammeList, summary="Programmes")
    def list_programmes(self, call):
        return handlers.list_programmes(self.store.uow())

    @api("GET", "/programmes/<string:programme_id>", response=ProgrammeOut, errors=(ProgrammeNotFound,),
         summary="A programme and its budget")
    def get_programme(self, call, programme_id):
        return handlers.get_programme(self.store.uow(), programme_id)

    @api("POST", "/grants", role="funding_officer", body=GrantIn, response=GrantOut, status=201,
         errors=(ProgrammeNotFound, InvalidAmount, OverBudget, ServiceNotActive, ServiceNotActiveYet),
         summary="Grant an active service money in tranches, within the programme's budget")
    def award_grant(self, call):
        body = call.body
        cmd = commands.AwardGrant(body["programme_id"], body["service_id"], body["tranches"], call.by)
        return handlers.award_grant(self.store.uow(call), cmd)

    @api("POST", "/tranches/<string:tranche_id>/release", role="funding_officer", body=ReleaseIn,
         response=TrancheOut, errors=(TrancheNotFound, AlreadyReleased, FundingFrozen, TrancheCancelled,
                                      ReleaseBeforeDueDate),
         summary="Release a tranche: the payment order, once per tranche, ever; before its due date "
                 "only with a reason")
    def release_tranche(self, call, tranche_id):
        cmd = commands.ReleaseTranche(tranche_id, call.by, call.body["evidence"], call.body["reason"])
        return handlers.release_tranche(self.store.uow(call), cmd)

    @api("GET", "/services/<string:service_id>/funding", response=FundingOut, summary="A service's funding: frozen or not, grants, tranches")
    def service_funding(self, call, service_id):
        return handlers.service_funding(self.store.uow(), service_id)

    @consume_events(topology.FUNDING_EVENTS, handlers=handlers.EVENT_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.EVENT_HANDLERS[event.event_type], self.metrics)
