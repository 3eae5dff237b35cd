"""The registry's nameko entrypoints: build a command from the call, run its use case."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import URGENT, apply_once, consume_events
from spc.shared.http import api
from spc.shared.ops import SpcService

from . import handlers
from .domain import commands
from .domain.pact import Pact
from .exceptions import IllegalTransition, InvalidPact, OpenViolations, ServiceNotFound
from .repository import RegistryUnitOfWork
from .schemas import ListQuery, RegisterServiceIn, RevokeIn, ServiceOut, ServicePage


class RegistryService(SpcService):
    spec = ServiceSpec("registry", port=8001, unit_of_work=RegistryUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("POST", "/services", role="registrar", body=RegisterServiceIn, response=ServiceOut, status=201,
         location="/services/{id}", errors=(InvalidPact,),
         summary="Register a citizen service under its pact (status submitted)")
    def register(self, call):
        body = dict(call.body)
        territories = body.pop("territories")
        pact = Pact(**body, departments=territories["departments"], communes=territories["communes"])
        return handlers.register_service(self.store.uow(call), commands.RegisterService(pact, call.by))

    @api("POST", "/services/<string:service_id>/approve", role="registrar", response=ServiceOut,
         errors=(ServiceNotFound, IllegalTransition, OpenViolations),
         summary="Approve a submitted service (active)")
    def approve(self, call, service_id):
        return handlers.approve_service(self.store.uow(call), commands.ApproveService(service_id, call.by))

    @api("POST", "/services/<string:service_id>/revoke", role="registrar", body=RevokeIn, response=ServiceOut,
         errors=(ServiceNotFound, IllegalTransition),
         summary="Revoke a service (final)")
    def revoke(self, call, service_id):
        cmd = commands.RevokeService(service_id, call.body["reason"], call.by)
        return handlers.revoke_service(self.store.uow(call), cmd)

    @api("GET", "/services/<string:service_id>", response=ServiceOut, errors=(ServiceNotFound,),
         summary="A service, its pact and its status")
    def get_service(self, call, service_id):
        return handlers.get_service(self.store.uow(), service_id)

    @api("GET", "/services", query=ListQuery, response=ServicePage, summary="Services, filtered and paginated")
    def list_services(self, call):
        return handlers.list_services(self.store.uow(), **call.query)

    @consume_events(topology.REGISTRY_EVENTS, handlers=handlers.EVENT_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.EVENT_HANDLERS[event.event_type], self.metrics)
