"""The registry's nameko entrypoints: build a command from the call, run its use case."""

import hmac
import logging
from pathlib import Path

from nameko.dependency_providers import Config

from spc.shared.sql.bootstrap import DEFAULT_PORTS, ServiceSpec
from spc.shared.web.http import ANY_ROLE, PUBLIC, api
from spc.shared.core.lists import whole
from spc.shared.service.agenda_api import AgendaEndpoints
from spc.shared.service.ops import SpcService
from spc.shared.service.timer import periodic

from . import ds_intake, handlers, mailer, orm
from .demarches import DemarchesProvider
from .domain.dossiers import MalformedDossier
from .ds_client import DsError, DsUnavailable
from .domain import commands
from .domain.pact import Pact, plain
from .exceptions import (
    AlreadyRegistered,
    AmendmentNotFound,
    AmendmentNotPending,
    DemarchesRefused,
    DemarchesUnavailable,
    DossierNotFound,
    IdentityMismatch,
    IllegalTransition,
    InvalidPact,
    OpenViolations,
    PactVersionNotFound,
    ServiceNotFound,
    TermEnded,
    WebhookNotFound,
)
from .registries import IdentityRegistriesProvider
from .pages import RegistryPages
from .public import PublicRegistry
from .repository import RegistryUnitOfWork
from .schemas import (
    AmendmentIn,
    AmendmentOut,
    AmendmentPage,
    ApproveIn,
    DecisionIn,
    DossierReadOut,
    DsDossierPage,
    ListQuery,
    PactOut,
    PactQuery,
    RegisterServiceIn,
    RevokeIn,
    ServiceOut,
    ServicePage,
    WebhookIn,
)


log = logging.getLogger(__name__)
MAX_DOSSIER = 2**31 - 1  # DS numbers dossiers with 32-bit integers


class RegistryService(PublicRegistry, RegistryPages, AgendaEndpoints, SpcService):
    spec = ServiceSpec(
        "registry",
        port=DEFAULT_PORTS["registry"],
        unit_of_work=RegistryUnitOfWork,
        migrations=Path(__file__).parent / "migrations",
        standings=handlers.standings,
        holdings=handlers.holdings,
        consumers=handlers.CONSUMERS,
    )
    config = Config()
    registries = IdentityRegistriesProvider()  # the identity port's adapter (SPC_IDENTITY_REGISTRY), or None
    ds = DemarchesProvider()  # Démarches Simplifiées (SPC_DS_*), or None
    deadlines_of, reminders_table = staticmethod(handlers.deadlines), orm.reminders_sent  # the agenda's

    @api(
        "POST",
        "/services",
        role="registrar",
        body=RegisterServiceIn,
        response=ServiceOut,
        status=201,
        location="/services/{id}",
        errors=(InvalidPact, AlreadyRegistered),
        summary="Register a citizen service under its pact (status submitted)",
    )
    def register(self, call):
        pact = Pact.from_dict(call.body)
        return handlers.register_service(
            self.store.uow(call), commands.RegisterService(pact, call.by), registries=self.registries
        )

    @api(
        "POST",
        "/services/<string:service_id>/approve",
        role="registrar",
        body=ApproveIn,
        response=ServiceOut,
        errors=(ServiceNotFound, IllegalTransition, OpenViolations, TermEnded, IdentityMismatch),
        summary="Approve a submitted service (active); with a reason when the registries disagree with its identity",
    )
    def approve(self, call, service_id):
        cmd = commands.ApproveService(service_id, call.by, call.body["reason"])
        return handlers.approve_service(self.store.uow(call), cmd)

    @api(
        "POST",
        "/services/<string:service_id>/revoke",
        role="registrar",
        body=RevokeIn,
        response=ServiceOut,
        errors=(ServiceNotFound, IllegalTransition),
        summary="Revoke a service (final)",
    )
    def revoke(self, call, service_id):
        cmd = commands.RevokeService(service_id, call.body["reason"], call.by)
        return handlers.revoke_service(self.store.uow(call), cmd)

    @api(
        "GET",
        "/services/<string:service_id>",
        response=ServiceOut,
        errors=(ServiceNotFound,),
        summary="A service, its pact and its status",
    )
    def get_service(self, call, service_id):
        return handlers.get_service(self.store.uow(), service_id)

    @api(
        "POST",
        "/services/<string:service_id>/amendments",
        role="registrar",
        body=AmendmentIn,
        response=AmendmentOut,
        status=201,
        location="/services/{service_id}/amendments/{id}",
        errors=(ServiceNotFound, InvalidPact, IllegalTransition),
        summary="Propose an amendment to the pact (territories, commitments, governance, contact, term, signatories, referral)",
    )
    def propose_amendment(self, call, service_id):
        changes = plain({k: v for k, v in call.body.items() if k != "reason"})
        cmd = commands.ProposeAmendment(service_id, changes, call.body["reason"], call.by)
        return handlers.propose_amendment(self.store.uow(call), cmd)

    @api(
        "POST",
        "/services/<string:service_id>/amendments/<string:amendment_id>/approve",
        role="registrar",
        response=AmendmentOut,
        errors=(ServiceNotFound, AmendmentNotFound, AmendmentNotPending, InvalidPact, IllegalTransition),
        summary="Approve an amendment: the pact's next version (published as registry.pact_amended)",
    )
    def approve_amendment(self, call, service_id, amendment_id):
        cmd = commands.DecideAmendment(service_id, amendment_id, call.by)
        return handlers.approve_amendment(self.store.uow(call), cmd)

    @api(
        "POST",
        "/services/<string:service_id>/amendments/<string:amendment_id>/reject",
        role="registrar",
        body=DecisionIn,
        response=AmendmentOut,
        errors=(ServiceNotFound, AmendmentNotFound, AmendmentNotPending),
        summary="Reject an amendment (the pact stays as it is)",
    )
    def reject_amendment(self, call, service_id, amendment_id):
        cmd = commands.DecideAmendment(service_id, amendment_id, call.by, call.body["reason"])
        return handlers.reject_amendment(self.store.uow(call), cmd)

    @api(
        "GET",
        "/services/<string:service_id>/amendments",
        response=AmendmentPage,
        errors=(ServiceNotFound,),
        summary="A service's amendments, oldest first",
    )
    def list_amendments(self, call, service_id):
        return handlers.list_amendments(self.store.uow(), service_id)

    @api(
        "GET",
        "/services/<string:service_id>/pact",
        query=PactQuery,
        response=PactOut,
        errors=(ServiceNotFound, PactVersionNotFound),
        summary="The pact (a version with ?version=N): commitments, governance, signatories, term; its versions",
    )
    def get_pact(self, call, service_id):
        return handlers.get_pact(self.store.uow(), service_id, call.query.get("version"))

    @api("GET", "/services", query=ListQuery, response=ServicePage, summary="Services, filtered and paginated")
    def list_services(self, call):
        return handlers.list_services(self.store.uow(), **call.query)

    # -- applications from Démarches Simplifiées (ds_intake.py) -----------------------------------
    @periodic(interval=300, config_key="DS_POLL_SECONDS")
    def sync_demarches(self):
        """Each démarche read (SPC_DS_MAPPINGS) is polled for what changed since its cursor."""
        if self.ds is None:
            return
        for mapping in self.ds.mappings.values():
            try:
                counts = ds_intake.sync_demarche(self.store.uow(), self.ds.client, mapping, self.registries, since=self.ds.since)
            except DsUnavailable as exc:
                log.warning("démarche %s not polled: %s", mapping.demarche, exc)
                return
            except DsError as exc:
                log.error("démarche %s not polled: %s", mapping.demarche, exc)
                continue
            except Exception:  # one démarche's trouble never stops the others
                log.exception("démarche %s not polled", mapping.demarche)
                continue
            if counts:
                log.info("démarche %s polled: %s", mapping.demarche, counts)

    @periodic(interval=300, config_key="DS_POLL_SECONDS")
    def tell_ds_applicants(self):
        """The write-back (SPC_DS_WRITE_BACK): a suspension or a reinstatement, told on the dossier."""
        if self.ds is None or not self.ds.write_back:
            return
        try:
            sent = ds_intake.tell_applicants(self.store.uow(), self.ds.client, self.ds.write_back)
        except (DsUnavailable, DsError) as exc:
            log.warning("DS messages not sent now: %s", exc)
            return
        if sent:
            log.info("%d messages sent to applicants on Démarches Simplifiées", sent)

    @api(
        "POST",
        "/ds/webhook/<string:secret>",
        role=PUBLIC,
        body=WebhookIn,
        form=True,
        response=DossierReadOut,
        status=202,
        errors=(WebhookNotFound,),
        summary="Démarches Simplifiées' webhook: a poke to read that dossier again (the secret is in the URL)",
    )
    def ds_webhook(self, call, secret):
        if self.ds is None or not hmac.compare_digest(secret.encode(), self.ds.secret.encode()):
            raise WebhookNotFound("no webhook here")
        number = call.body["dossier_id"]
        try:
            outcome = ds_intake.reread_dossier(self.store.uow(), self.ds.client, self.ds.mappings, number, self.registries)
        except DsUnavailable as exc:
            log.warning("DS webhook for dossier %s: not read now (%s); polling will catch up", number, exc)
            outcome = "deferred"
        except (DsError, MalformedDossier) as exc:
            log.error("DS webhook for dossier %s: cannot be read (%s)", number, exc)
            outcome = "deferred"
        return {"number": number, "outcome": outcome}

    @api(
        "GET",
        "/ds/dossiers",
        role=ANY_ROLE,
        response=DsDossierPage,
        summary="Démarches Simplifiées dossiers parked: each with the champ at fault",
    )
    def ds_parked(self, call):
        return whole(ds_intake.parked(self.store.uow()))

    @api(
        "POST",
        "/ds/dossiers/<int:number>/retry",
        role="registrar",
        response=DossierReadOut,
        errors=(DossierNotFound, DemarchesUnavailable, DemarchesRefused),
        summary="Read a parked dossier again from Démarches Simplifiées (its mapping or data fixed)",
    )
    def ds_retry(self, call, number):
        if self.ds is None or number > MAX_DOSSIER or not ds_intake.known(self.store.uow(), number):
            raise DossierNotFound(f"no dossier {number} was read", {"number": number})
        try:
            outcome = ds_intake.reread_dossier(self.store.uow(), self.ds.client, self.ds.mappings, number, self.registries)
        except DsUnavailable as exc:
            raise DemarchesUnavailable(str(exc), {"retry_after": round(exc.retry_after)}) from None
        except (DsError, MalformedDossier) as exc:
            raise DemarchesRefused(str(exc)) from None
        return {"number": number, "outcome": outcome}

    @periodic(interval=300, config_key="IDENTITY_RECHECK_SECONDS")
    def recheck_identities(self):
        """Services still `unverified` are asked about again (SPC_IDENTITY_RECHECK_SECONDS)."""
        if self.registries is not None:
            handlers.recheck_identities(self.store.uow(), self.registries, every_seconds=self.config["IDENTITY_RECHECK_SECONDS"])

    @periodic(interval=10, config_key="MAIL_SECONDS")
    def send_mail(self):
        """The mail relay (mailer.py): reminders e-mailed to the services' contacts (SPC_SMTP_URL)."""
        smtp = self.config.get("SMTP")
        if smtp is not None:
            sent, failed = mailer.send_pending(self.store.uow(), smtp)
            if sent or failed:
                log.info("mail relay: %d sent, %d not", sent, failed)

    @periodic(interval=60)
    def expire_terms(self):
        handlers.expire_terms(self.store.uow())
