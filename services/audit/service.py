"""Audit's nameko entrypoints: build a command from the call, run its use case."""

from pathlib import Path

from nameko.dependency_providers import Config

from spc.shared.core.errors import Rejection
from spc.shared.messaging import topology
from spc.shared.messaging.consumer import DeadLetterSink, consume_events
from spc.shared.service.agenda_api import AgendaEndpoints
from spc.shared.service.ops import SpcService
from spc.shared.service.timer import Nudge, periodic
from spc.shared.sql.bootstrap import DEFAULT_PORTS, ServiceSpec
from spc.shared.web.http import api

from . import handlers, orm
from .domain.commands import (
    AnswerFinding,
    DismissReport,
    EscalateFinding,
    RecordFinding,
    ReportFilter,
    ReportRemediationDone,
    ResolveFinding,
)
from .domain.model import UNKNOWN_SERVICE_WINDOW_SECONDS
from .exceptions import (
    AlreadyAViolation,
    AlreadyResolved,
    FindingNotFound,
    NotAnswered,
    RemediationAlreadyReported,
    ReportAlreadyTriaged,
    ReportNotFound,
    ReportOfAnotherService,
    ServiceNotKnown,
    UnknownService,
)
from .repository import AuditUnitOfWork
from .schemas import (
    AnswerIn,
    CitizenReportOut,
    CitizenReportPage,
    DismissIn,
    DossierOut,
    DossierQuery,
    EscalateIn,
    FindingIn,
    FindingOut,
    FindingsOut,
    JournalCheck,
    RemediationDoneIn,
    ReportQuery,
    ResolveIn,
)
from .settings import JournalCheckpointSetting, ReportSettings


# ---- citizen reports' entrypoints --------------------------------------------------------------------
# Audit's entrypoints for citizen reports (mixed into AuditService): auditors list and dismiss
# them (POST /findings makes them part of a finding); two timers open the threshold's findings and
# purge texts past their retention.

THRESHOLD_SWEEP_SECONDS = 2
PURGE_SECONDS = 600


class ReportEntrypoints:
    report_policy = ReportSettings()

    @api(
        "GET",
        "/reports",
        role="auditor",
        query=ReportQuery,
        response=CitizenReportPage,
        summary="Citizen reports, newest first, with their texts (personal data: auditors only)",
    )
    def list_reports(self, call):
        return handlers.list_reports(self.store.uow(), ReportFilter(**call.query))

    @api(
        "POST",
        "/reports/<string:report_id>/dismiss",
        role="auditor",
        body=DismissIn,
        response=CitizenReportOut,
        errors=(ReportNotFound, ReportAlreadyTriaged),
        summary="Dismiss a citizen report, with a reason",
    )
    def dismiss_report(self, call, report_id):
        cmd = DismissReport(report_id, call.body["reason"], call.by)
        return handlers.dismiss_report(self.store.uow(call), cmd)

    @periodic(interval=THRESHOLD_SWEEP_SECONDS)
    def open_threshold_findings(self):
        handlers.open_threshold_findings(self.store.uow(), self.report_policy)

    @periodic(interval=PURGE_SECONDS, eager=True)
    def purge_report_texts(self):
        handlers.purge_report_texts(self.store.uow(), self.report_policy)


CHECKPOINT_TICK_SECONDS = 1  # how often a checkpoint's being due is checked


class AuditService(ReportEntrypoints, AgendaEndpoints, SpcService):
    spec = ServiceSpec(
        "audit",
        port=DEFAULT_PORTS["audit"],
        unit_of_work=AuditUnitOfWork,
        migrations=Path(__file__).parent / "migrations",
        standings=handlers.standings,
        holdings=handlers.holdings,
        consumers=handlers.CONSUMERS,
    )
    dead_letter = DeadLetterSink()
    config = Config()
    checkpoint_seconds = JournalCheckpointSetting()
    journaled = Nudge(backstop=1.0)  # the lanes journaled events: the chainer has work
    deadlines_of, reminders_table = staticmethod(handlers.deadlines), orm.reminders_sent  # the agenda's

    @api(
        "POST",
        "/findings",
        role="auditor",
        body=FindingIn,
        response=FindingOut,
        status=201,
        errors=(UnknownService, ReportNotFound, ReportAlreadyTriaged, ReportOfAnotherService),
        summary="Record a finding, made of citizen reports if it names them; major and critical ones are "
        "violations that suspend the service",
    )
    def record_finding(self, call):
        body = dict(call.body)
        body["reported_by"] = body.get("reported_by") or call.by
        return handlers.record_finding(self.store.uow(call), RecordFinding(**body))

    @api(
        "POST",
        "/findings/<string:finding_id>/resolve",
        role="auditor",
        body=ResolveIn,
        response=FindingOut,
        errors=(FindingNotFound, AlreadyResolved),
        summary="Resolve a finding; the last open violation resolved reinstates the service",
    )
    def resolve_finding(self, call, finding_id):
        cmd = ResolveFinding(finding_id, call.body["resolution"], call.by)
        return handlers.resolve_finding(self.store.uow(call), cmd)

    @api(
        "POST",
        "/findings/<string:finding_id>/escalate",
        role="auditor",
        body=EscalateIn,
        response=FindingOut,
        errors=(FindingNotFound, AlreadyResolved, AlreadyAViolation),
        summary="Escalate an open minor finding to a violation: the service is suspended",
    )
    def escalate_finding(self, call, finding_id):
        cmd = EscalateFinding(finding_id, call.body["reason"], call.by)
        return handlers.escalate_finding(self.store.uow(call), cmd)

    @api(
        "GET",
        "/services/<string:service_id>/findings",
        scoped=("service",),
        response=FindingsOut,
        errors=(ServiceNotKnown,),
        summary="A service's findings",
    )
    def service_findings(self, call, service_id):
        return handlers.service_findings(self.store.uow(), service_id)

    @api(
        "POST",
        "/services/<string:service_id>/findings/<string:finding_id>/answer",
        role="auditor",
        scoped=("service",),
        body=AnswerIn,
        response=FindingOut,
        errors=(FindingNotFound, AlreadyResolved),
        summary="The service answers its finding: a remediation plan and the date it commits to",
    )
    def answer_finding(self, call, service_id, finding_id):
        body = call.body
        cmd = AnswerFinding(service_id, finding_id, body["plan"], body["due_on"], call.by)
        return handlers.answer_finding(self.store.uow(call), cmd)

    @api(
        "POST",
        "/services/<string:service_id>/findings/<string:finding_id>/done",
        role="auditor",
        scoped=("service",),
        body=RemediationDoneIn,
        response=FindingOut,
        errors=(FindingNotFound, AlreadyResolved, NotAnswered, RemediationAlreadyReported),
        summary="The service reports its remediation done; an auditor then resolves or escalates",
    )
    def report_remediation_done(self, call, service_id, finding_id):
        cmd = ReportRemediationDone(service_id, finding_id, call.by, call.body["note"])
        return handlers.report_remediation_done(self.store.uow(call), cmd)

    @api(
        "GET",
        "/services/<string:service_id>/dossier",
        scoped=("service",),
        query=DossierQuery,
        response=DossierOut,
        errors=(ServiceNotKnown,),
        summary="A service's dossier: pact versions, findings and answers, reports counted (texts for "
        "auditors), decisions, and its journal entries",
    )
    def service_dossier(self, call, service_id):
        return handlers.dossier(self.store.uow(), service_id, call.actor, **call.query)

    @api("GET", "/journal/verify", role="auditor", response=JournalCheck, summary="Recompute the journal's hash chain")
    def verify_journal(self, call):
        return handlers.verify_journal(self.store.uow())

    def consumed(self, consumes):
        """The lanes journal what they take: the chainer has work."""
        self.journaled.nudge()

    @consume_events(topology.INBOUND_UNROUTED, handlers={})
    def on_unrouted(self, event):
        raise Rejection("unknown_event_type", f"{event.event_type!r} has no consumer")

    @periodic(interval=0.2)
    def chain_journal(self):
        """Chains what the lanes journaled, within 0.2 s; at rest, a look every second only."""
        if self.journaled.due():
            handlers.chain_journal(self.store.uow())

    @periodic(interval=CHECKPOINT_TICK_SECONDS)
    def checkpoint_journal(self):
        """audit.journal_checkpoint: the chain's head, at most every SPC_JOURNAL_CHECKPOINT_SECONDS."""
        handlers.checkpoint_journal(self.store.uow(), self.checkpoint_seconds)

    @periodic(interval=1)
    def expire_parked(self):
        window = float(self.config.get("UNKNOWN_SERVICE_WINDOW", UNKNOWN_SERVICE_WINDOW_SECONDS))
        sink = self.dead_letter
        handlers.expire_parked(
            self.store.uow(),
            window,
            lambda fact, rejection: sink(fact.body.encode("utf-8"), fact.queue, rejection, fact.event_id, fact.event_type),
        )
        self.metrics.parked.set(handlers.parked_count(self.store.uow()))

    @periodic(interval=60)
    def escalate_overdue(self):
        handlers.escalate_overdue(self.store.uow())
