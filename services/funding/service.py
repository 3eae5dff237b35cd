"""Funding's nameko entrypoints: build a command from the call, run its use case."""

from pathlib import Path

from nameko.dependency_providers import Config

from spc.shared.sql.bootstrap import DEFAULT_PORTS, ServiceSpec
from spc.shared.web.http import api
from spc.shared.service.agenda_api import AgendaEndpoints
from spc.shared.service.ops import SpcService
from spc.shared.service.timer import periodic

from . import handlers, orm
from .domain import commands
from .domain.approvals import DualControl
from .exceptions import (
    AlreadyReleased,
    ApprovalExpired,
    BudgetNotRaised,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalPending,
    DualControlRequired,
    FundingFrozen,
    GrantNotFound,
    InvalidAmount,
    InvalidFunder,
    NothingToRevoke,
    OverBudget,
    ProgrammeNotFound,
    ReleaseBeforeDueDate,
    SameApprover,
    ServiceNotActive,
    ServiceNotActiveYet,
    TrancheCancelled,
    TrancheNotFound,
)
from .pages import FundingPages
from .public import PublicFunding
from .repository import FundingUnitOfWork
from .schemas import (
    ApprovalIn,
    ApprovalList,
    ApprovalOut,
    ApprovalQuery,
    BudgetIn,
    FundingOut,
    GrantIn,
    GrantOut,
    ProgrammeIn,
    ProgrammeList,
    ProgrammeOut,
    RejectIn,
    ReleaseIn,
    GrantRevokeIn,
    TrancheOut,
)

MONEY_REFUSALS = (AlreadyReleased, FundingFrozen, TrancheCancelled, ReleaseBeforeDueDate, NothingToRevoke, BudgetNotRaised)


class FundingService(PublicFunding, FundingPages, AgendaEndpoints, SpcService):
    spec = ServiceSpec(
        "funding",
        port=DEFAULT_PORTS["funding"],
        unit_of_work=FundingUnitOfWork,
        migrations=Path(__file__).parent / "migrations",
        standings=handlers.standings,
        holdings=handlers.holdings,
        consumers=handlers.CONSUMERS,
    )
    config = Config()
    deadlines_of, reminders_table = staticmethod(handlers.deadlines), orm.reminders_sent  # the agenda's

    @property
    def dual_control(self):
        """Which amounts need two people (SPC_DUAL_CONTROL_CENTS; off when unset)."""
        return self.config.get("DUAL_CONTROL") or DualControl()

    @api(
        "POST",
        "/programmes",
        role="funding_officer",
        body=ProgrammeIn,
        response=ProgrammeOut,
        status=201,
        errors=(InvalidAmount, InvalidFunder),
        summary="Open a programme with its budget envelope, its funder and its legal basis",
    )
    def create_programme(self, call):
        body = call.body
        cmd = commands.CreateProgramme(body["name"], body["budget_cents"], call.by, body["funder"], body["legal_basis"])
        return handlers.create_programme(self.store.uow(call), cmd)

    @api("GET", "/programmes", response=ProgrammeList, summary="Programmes")
    def list_programmes(self, call):
        return handlers.list_programmes(self.store.uow())

    @api(
        "GET",
        "/programmes/<string:programme_id>",
        response=ProgrammeOut,
        errors=(ProgrammeNotFound,),
        summary="A programme and its budget",
    )
    def get_programme(self, call, programme_id):
        return handlers.get_programme(self.store.uow(), programme_id)

    @api(
        "POST",
        "/grants",
        role="funding_officer",
        body=GrantIn,
        response=GrantOut,
        status=201,
        errors=(ProgrammeNotFound, InvalidAmount, OverBudget, ServiceNotActive, ServiceNotActiveYet),
        summary="Grant an active service money in tranches, within the programme's budget",
    )
    def award_grant(self, call):
        body = call.body
        cmd = commands.AwardGrant(body["programme_id"], body["service_id"], body["tranches"], call.by)
        return handlers.award_grant(self.store.uow(call), cmd)

    @api(
        "POST",
        "/tranches/<string:tranche_id>/release",
        role="funding_officer",
        body=ReleaseIn,
        response=TrancheOut,
        errors=(TrancheNotFound, AlreadyReleased, FundingFrozen, TrancheCancelled, ReleaseBeforeDueDate, DualControlRequired),
        summary="Release a tranche: the payment order, once per tranche, ever; before its due date "
        "only with a reason; above SPC_DUAL_CONTROL_CENTS only through an approval",
    )
    def release_tranche(self, call, tranche_id):
        cmd = commands.ReleaseTranche(tranche_id, call.by, call.body["evidence"], call.body["reason"])
        return handlers.release_tranche(self.store.uow(call), cmd, self.dual_control)

    @api(
        "POST",
        "/grants/<string:grant_id>/revoke",
        role="funding_officer",
        body=GrantRevokeIn,
        response=GrantOut,
        errors=(GrantNotFound, NothingToRevoke, DualControlRequired),
        summary="Revoke a grant: what it still had to pay is cancelled and given back to its programme; "
        "above SPC_DUAL_CONTROL_CENTS only through an approval",
    )
    def revoke_grant(self, call, grant_id):
        cmd = commands.RevokeGrant(grant_id, call.by, call.body["reason"])
        return handlers.revoke_grant(self.store.uow(call), cmd, self.dual_control)

    @api(
        "POST",
        "/programmes/<string:programme_id>/budget",
        role="funding_officer",
        body=BudgetIn,
        response=ProgrammeOut,
        errors=(ProgrammeNotFound, BudgetNotRaised, DualControlRequired),
        summary="Raise a programme's budget envelope; above SPC_DUAL_CONTROL_CENTS (the raise) only through an approval",
    )
    def raise_budget(self, call, programme_id):
        cmd = commands.RaiseBudget(programme_id, call.body["budget_cents"], call.by, call.body["reason"])
        return handlers.raise_budget(self.store.uow(call), cmd, self.dual_control)

    # -- two people for money (domain/approvals.py) -------------------------------------------
    @api(
        "POST",
        "/approvals",
        role="funding_officer",
        body=ApprovalIn,
        response=ApprovalOut,
        status=201,
        errors=(TrancheNotFound, GrantNotFound, ProgrammeNotFound, ApprovalPending, *MONEY_REFUSALS),
        summary="Request a release, a grant's revocation or a budget raise that another funding officer "
        "must approve (checked now as it would be carried out)",
    )
    def request_approval(self, call):
        b = call.body
        cmd = commands.RequestApproval(
            b["action"], b["target_id"], call.by, call.actor.person, b["reason"], b["evidence"], b["budget_cents"]
        )
        return handlers.request_approval(self.store.uow(call), cmd, self.dual_control)

    @api(
        "GET",
        "/approvals",
        query=ApprovalQuery,
        response=ApprovalList,
        summary="Requests for a second person's approval, newest first (?status=pending: what waits)",
    )
    def list_approvals(self, call):
        return handlers.list_approvals(self.store.uow(), call.query["status"])

    @api(
        "GET",
        "/approvals/<string:approval_id>",
        response=ApprovalOut,
        errors=(ApprovalNotFound,),
        summary="A request for approval, with who did what to it",
    )
    def get_approval(self, call, approval_id):
        return handlers.get_approval(self.store.uow(), approval_id)

    @api(
        "POST",
        "/approvals/<string:approval_id>/approve",
        role="funding_officer",
        response=ApprovalOut,
        errors=(ApprovalNotFound, SameApprover, ApprovalNotPending, ApprovalExpired, *MONEY_REFUSALS),
        summary="Approve another person's request: the change is carried out now, both people named",
    )
    def approve(self, call, approval_id):
        cmd = commands.DecideApproval(approval_id, call.by, call.actor.person)
        return handlers.approve(self.store.uow(call), cmd)

    @api(
        "POST",
        "/approvals/<string:approval_id>/reject",
        role="funding_officer",
        body=RejectIn,
        response=ApprovalOut,
        errors=(ApprovalNotFound, ApprovalNotPending, ApprovalExpired),
        summary="Turn a request down, with a reason (its requester may withdraw it so)",
    )
    def reject(self, call, approval_id):
        cmd = commands.DecideApproval(approval_id, call.by, call.actor.person, call.body["reason"])
        return handlers.reject(self.store.uow(call), cmd)

    @periodic(interval=60)
    def expire_approvals(self):
        handlers.expire_approvals(self.store.uow())

    @api(
        "GET",
        "/services/<string:service_id>/funding",
        response=FundingOut,
        summary="A service's funding: frozen or not, grants, tranches",
    )
    def service_funding(self, call, service_id):
        return handlers.service_funding(self.store.uow(), service_id)
