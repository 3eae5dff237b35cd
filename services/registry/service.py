"""The registry's nameko entrypoints: build a command from the call, run its use case."""
from pathlib import Path

from nameko.dependency_providers import Config

from spc.shared import topology
from spc.shared.bootstrap import ServiceSpec
from spc.shared.consumer import URGENT, apply_once, consume_events
from spc.shared.http import api
from spc.shared.ops import SpcService
from spc.shared.timer import periodic

from . import handlers
from .domain import commands
from .domain.pact import Pact, plain
from .exceptions import (AlreadyRegistered, AmendmentNotFound, AmendmentNotPending, IdentityMismatch, IllegalTransition,
                         InvalidPact, OpenViolations, PactVersionNotFound, ServiceNotFound, TermEnded)
from .registries import IdentityRegistriesProvider
from .public import PublicRegistry
from .repository import RegistryUnitOfWork
from .schemas import (AmendmentIn, ApproveIn, AmendmentOut, AmendmentPage, DecisionIn, ListQuery, PactOut, PactQuery,
                      RegisterServiceIn, RevokeIn, ServiceOut, ServicePage)


class RegistryService(PublicRegistry, SpcService):
    spec = ServiceSpec("registry", port=8001, unit_of_work=RegistryUnitOfWork,
                       migrations=Path(__file__).parent / "migrations", standings=handlers.standings,
                       holdings=handlers.holdings)
    config = Config()
    registries = IdentityRegistriesProvider()  # the identity port's adapter (SPC_IDENTITY_REGISTRY), or None

    @api("POST", "/services", role="registrar", body=RegisterServiceIn, response=ServiceOut, status=201,
         location="/services/{id}", errors=(InvalidPact, AlreadyRegistered),
         summary="Register a citizen service under its pact (status submitted)")
    def register(self, call):
        pact = Pact.from_dict(call.body)
        return handlers.register_service(self.store.uow(call), commands.RegisterService(pact, call.by),
                                         registries=self.registries)

    @api("POST", "/services/<string:service_id>/approve", role="registrar", body=ApproveIn, response=ServiceOut,
         errors=(ServiceNotFound, IllegalTransition, OpenViolations, TermEnded, IdentityMismatch),
         summary="Approve a submitted service (active); with a reason when the registries disagree with its identity")
    def approve(self, call, service_id):
        cmd = commands.ApproveService(service_id, call.by, call.body["reason"])
        return handlers.approve_service(self.store.uow(call), cmd)

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

    @api("POST", "/services/<string:service_id>/amendments", role="registrar", body=AmendmentIn,
         response=AmendmentOut, status=201, location="/services/{service_id}/amendments/{id}",
         errors=(ServiceNotFound, InvalidPact, IllegalTransition),
         summary="Propose an amendment to the pact (territories, commitments, governance, contact, term, signatories, referral)")
    def propose_amendment(self, call, service_id):
        changes = plain({k: v for k, v in call.body.items() if k != "reason"})
        cmd = commands.ProposeAmendment(service_id, changes, call.body["reason"], call.by)
        return handlers.propose_amendment(self.store.uow(call), cmd)

    @api("POST", "/services/<string:service_id>/amendments/<string:amendment_id>/approve", role="registrar",
         response=AmendmentOut, errors=(ServiceNotFound, AmendmentNotFound, AmendmentNotPending, InvalidPact,
                                        IllegalTransition),
         summary="Approve an amendment: the pact's next version (published as registry.pact_amended)")
    def approve_amendment(self, call, service_id, amendment_id):
        cmd = commands.DecideAmendment(service_id, amendment_id, call.by)
        return handlers.approve_amendment(self.store.uow(call), cmd)

    @api("POST", "/services/<string:service_id>/amendments/<string:amendment_id>/reject", role="registrar",
         body=DecisionIn, response=AmendmentOut, errors=(ServiceNotFound, AmendmentNotFound, AmendmentNotPending),
         summary="Reject an amendment (the pact stays as it is)")
    def reject_amendment(self, call, service_id, amendment_id):
        cmd = commands.DecideAmendment(service_id, amendment_id, call.by, call.body["reason"])
        return handlers.reject_amendment(self.store.uow(call), cmd)

    @api("GET", "/services/<string:service_id>/amendments", response=AmendmentPage, errors=(ServiceNotFound,),
         summary="A service's amendments, oldest first")
    def list_amendments(self, call, service_id):
        return handlers.list_amendments(self.store.uow(), service_id)

    @api("GET", "/services/<string:service_id>/pact", query=PactQuery, response=PactOut,
         errors=(ServiceNotFound, PactVersionNotFound),
         summary="The pact (a version with ?version=N): commitments, governance, signatories, term; its versions")
    def get_pact(self, call, service_id):
        return handlers.get_pact(self.store.uow(), service_id, call.query.get("version"))

    @api("GET", "/services", query=ListQuery, response=ServicePage, summary="Services, filtered and paginated")
    def list_services(self, call):
        return handlers.list_services(self.store.uow(), **call.query)

    @periodic(interval=300, config_key="IDENTITY_RECHECK_SECONDS")
    def recheck_identities(self):
        """Services still `unverified` are asked about again (SPC_IDENTITY_RECHECK_SECONDS)."""
        if self.registries is not None:
            handlers.recheck_identities(self.store.uow(), self.registries,
                                        every_seconds=self.config["IDENTITY_RECHECK_SECONDS"])

    @periodic(interval=60)
    def expire_terms(self):
        handlers.expire_terms(self.store.uow())

    @consume_events(topology.REGISTRY_EVENTS, handlers=handlers.EVENT_HANDLERS, lane=URGENT)
    def on_event(self, event):
        apply_once(self.store.uow(), event, handlers.EVENT_HANDLERS[event.event_type], self.metrics)
