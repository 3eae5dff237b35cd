"""The registry's nameko entrypoints: load, build a command, call a handler, dump."""
from pathlib import Path

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import URGENT, apply_once, consume_events
from spc.shared.http import api, json_response, read_json
from spc.shared.ops import SpcService

from . import handlers
from .domain import commands
from .domain.pact import Pact
from .exceptions import IllegalTransition, InvalidPact, OpenViolations, ServiceNotFound
from .repository import RegistryUnitOfWork
from .schemas import ListQuery, RegisterServiceIn, RevokeIn


class RegistryService(SpcService):
    spec = ServiceSpec("registry", port=8001, unit_of_work=RegistryUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)

    @api("POST", "/services", role="registrar", body=RegisterServiceIn, status=201, errors=(InvalidPact,),
         summary="Register a citizen service under its pact (status submitted)")
    def register(self, request):
        actor = self.auth.require(request, "registrar")
        body = RegisterServiceIn().load(read_json(request))
        territories = body.pop("territories")
        pact = Pact(**body, departments=territories["departments"], communes=territories["communes"])
        result = handlers.register_service(self.store.uow(), commands.RegisterService(pact, str(actor)))
        return json_response(result, 201, {"Location": f"/services/{result['id']}"})

    @api("POST", "/services/<string:service_id>/approve", role="registrar",
         errors=(ServiceNotFound, IllegalTransition, OpenViolations),
         summary="Approve a submitted service (active)")
    def approve(self, request, service_id):
        actor = self.auth.require(request, "registrar")
        cmd = commands.ApproveService(service_id, str(actor))
        return json_response(handlers.approve_service(self.store.uow(), cmd))

    @api("POST", "/services/<string:service_id>/revoke", role="registrar", body=RevokeIn,
         errors=(ServiceNotFound, IllegalTransition),
         summary="Revoke a service (final)")
    def revoke(self, request, service_id):
        actor = self.auth.require(request, "registrar")
        body = RevokeIn().load(read_json(request) if request.get_data() else {})
        cmd = commands.RevokeService(service_id, body["reason"], str(actor))
        return json_response(handlers.revoke_service(self.store.uow(), cmd))

    @api("GET", "/services/<string:service_id>", errors=(ServiceNotFound,),
         summary="A service, its pact and its status")
    def get_service(self, request, service_id):
        self.auth.require(request)
        return json_response(handlers.get_service(self.store.uow(), service_id))

    @api("GET", "/services", query=ListQuery, summary="Services, filtered and paginated")
    def list_services(self, request):
        self.auth.require(request)
        query = ListQuery().load(request.args.to_dict())
        return json_response(handlers.list_services(self.store.uow(), **query))

    @consume_events(topology.REGISTRY_EVENTS, handlers=handlers.EVENT_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.EVENT_HANDLERS[event.event_type], self.metrics)
