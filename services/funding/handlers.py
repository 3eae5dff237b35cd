"""Funding's use cases: one transaction each, events committed with the change."""

import uuid

from spc.shared.core import events
from spc.shared.messaging import topology
from spc.shared.core.dispatch import URGENT, Consumes
from spc.shared.core.answers import Answer, out
from spc.shared.core.clock import to_db, utcnow
from spc.shared.core.errors import KNOWN_WAIT_SECONDS, until_known
from spc.shared.core.lists import whole

from sqlalchemy.exc import IntegrityError

from .domain import commands
from .domain.approvals import BUDGET_RAISE, RELEASE, REVOCATION, TARGETS, ApprovalRequest, DualControl
from .domain.funder import Funder
from .domain.model import TRANCHE_STATUSES, Programme
from .domain.reminders import milestones
from .exceptions import ApprovalPending, DualControlRequired
from .schemas import ApprovalList, ApprovalOut, FundingOut, GrantOut, ProgrammeList, ProgrammeOut, TrancheOut

OFF = DualControl()  # no amount needs two people (SPC_DUAL_CONTROL_CENTS unset)


def _id():
    return str(uuid.uuid4())


def create_programme(uow, cmd: commands.CreateProgramme):
    """Open a programme with its budget envelope, its funder and its legal basis (both optional:
    a programme opened without them shows them as null)."""
    f = cmd.funder
    funder = Funder.of(f.get("name"), f.get("siret"), f.get("siren")) if f is not None else None
    with uow:
        programme = Programme.open(_id(), cmd.name, cmd.budget_cents, funder, cmd.legal_basis)
        uow.funding.add(programme)
        uow.commit()
        return _programme_answer(uow, programme)


def award_grant(uow, cmd: commands.AwardGrant, wait_seconds=KNOWN_WAIT_SECONDS):
    """Grant money to an active service in tranches, within the programme's budget. A service
    approved a moment ago may not be known here yet: wait a little, then 409 with Retry-After."""
    return until_known(lambda: _award_grant(uow, cmd), wait_seconds)


def _award_grant(uow, cmd):
    with uow:
        programme = uow.funding.programme(cmd.programme_id, for_update=True)
        account = uow.funding.account(cmd.service_id, for_update=True, create=True)
        grant = account.award(_id(), programme, cmd.tranches, _id, utcnow())
        uow.commit()
        return grant_answer(grant, uow.staff_log.history([grant.id]))


def release_tranche(uow, cmd: commands.ReleaseTranche, dual=OFF, now=None):
    """Release a tranche: the payment order, published once per tranche, ever; before its due
    date only with a reason; above the dual-control amount, only through an approval.
    `now` (UTC, naive) is the wall clock unless a test gives one."""
    with uow:
        service_id = uow.funding.service_of_tranche(cmd.tranche_id)
        account = uow.funding.account(service_id, for_update=True)
        now = now or utcnow()
        _single_step(dual, account.releasable(cmd.tranche_id, now, cmd.reason).amount_cents)
        tranche = _release(uow, account, cmd.tranche_id, cmd.actor, now, cmd.evidence, cmd.reason)
        uow.commit()
        return out(TrancheOut).dump(Answer(tranche, history=uow.staff_log.history([tranche.id])[tranche.id]))


def _release(uow, account, tranche_id, actor, now, evidence, reason, approved_by=None):
    tranche = account.release(tranche_id, actor, now, evidence, reason, approved_by)
    order_id = account.pending_id("funding.tranche_released")  # the id its event will carry
    uow.funding.record_payment_order(tranche, order_id, now)  # kept with its event's id
    return tranche


def _single_step(dual, amount_cents):
    if dual.required(amount_cents):
        raise DualControlRequired(
            f"{amount_cents} cents is above the amount one person may order ({dual.threshold_cents}): request "
            "it (POST /approvals) for another funding officer to approve",
            dual.details(amount_cents),
        )


def revoke_grant(uow, cmd: commands.RevokeGrant, dual=OFF):
    """Cancel what a grant still had to pay and give it back to its programme (what it paid
    stays paid); above the dual-control amount, only through an approval."""
    with uow:
        service_id, programme_id = uow.funding.grant_parties(cmd.grant_id)
        programme = uow.funding.programme(programme_id, for_update=True)  # programme, then account
        account = uow.funding.account(service_id, for_update=True)
        _single_step(dual, sum(t.amount_cents for t in account.revocable(cmd.grant_id)[1]))
        grant = _revoke(account, programme, cmd.grant_id, cmd.actor, cmd.reason)
        uow.commit()
        return grant_answer(grant, uow.staff_log.history([grant.id]))


def _revoke(account, programme, grant_id, actor, reason, approved_by=None):
    grant = account.revoke_grant(grant_id, actor, reason, approved_by)
    for programme_id, cents in account.pull_returns().items():
        if programme_id != programme.id:
            raise RuntimeError(f"grant {grant_id} gives back to {programme_id}, not to its programme {programme.id}")
        programme.give_back(cents)
    return grant


def raise_budget(uow, cmd: commands.RaiseBudget, dual=OFF):
    """Raise a programme's budget envelope; above the dual-control amount (the raise), only
    through an approval."""
    with uow:
        programme = uow.funding.programme(cmd.programme_id, for_update=True)
        _single_step(dual, programme.raise_of(cmd.budget_cents))
        programme.raise_budget(cmd.budget_cents, cmd.actor, cmd.reason)
        uow.commit()
        return _programme_answer(uow, programme)


# -- two people for money (domain/approvals.py) ----------------------------------------------------
# Locks are taken in one order everywhere: the programme, then the service's account, then the
# request (a standing that voids a service's requests takes them in that order too).


def request_approval(uow, cmd: commands.RequestApproval, dual=OFF, now=None):
    """A change of money asked by one funding officer, checked now as it would be carried out
    (a tranche already released, a frozen service, nothing left to revoke... are refused here),
    waiting for another's approval. One pending request per tranche, grant or programme."""
    now = now or utcnow()
    with uow:
        programme_id, service_id, amount = _lock_target(uow, cmd.action, cmd.target_id, now, cmd.reason, cmd.budget_cents)
        waiting = uow.funding.pending_approval_of(cmd.target_id)
        if waiting is not None and not uow.funding.approval(waiting, for_update=True).expire(now):
            raise ApprovalPending("a request for this change is already waiting for its approval", {"approval_id": waiting})
        uow.flush()  # an expired request leaves the pending slot first
        request = ApprovalRequest.open(
            _id(),
            cmd.action,
            cmd.target_id,
            programme_id,
            service_id,
            amount,
            cmd.actor,
            cmd.person,
            now,
            dual.expiry_seconds,
            cmd.reason,
            cmd.evidence if cmd.action == RELEASE else None,
            cmd.budget_cents if cmd.action == BUDGET_RAISE else None,
        )
        uow.funding.add(request)
        try:
            uow.commit()
        except IntegrityError:  # another request for it committed a moment ago (the partial unique index)
            raise ApprovalPending(
                "a request for this change is already waiting for its approval", {"target_id": cmd.target_id}
            ) from None
        return approval_answer(request, uow.staff_log.history([request.id])[request.id])


def _lock_target(uow, action, target_id, now, reason, budget_cents):
    """Lock what the action changes and check it may change: (programme id, service id, amount)."""
    if action == RELEASE:
        service_id = uow.funding.service_of_tranche(target_id)
        programme_id = uow.funding.programme_of_tranche(target_id)
        account = uow.funding.account(service_id, for_update=True)
        return programme_id, service_id, account.releasable(target_id, now, reason).amount_cents
    if action == REVOCATION:
        service_id, programme_id = uow.funding.grant_parties(target_id)
        uow.funding.programme(programme_id, for_update=True)
        account = uow.funding.account(service_id, for_update=True)
        return programme_id, service_id, sum(t.amount_cents for t in account.revocable(target_id)[1])
    programme = uow.funding.programme(target_id, for_update=True)
    return programme.id, None, programme.raise_of(budget_cents)


def approve(uow, cmd: commands.DecideApproval, now=None):
    """Another person approves: the change is carried out now, both people named in its event
    (`funding.tranche_released`: the payment order, once). It fails, and the request waits, if
    the change may no longer be made (frozen, released, nothing left to revoke...)."""
    now = now or utcnow()
    with uow:
        seen = uow.funding.approval(cmd.approval_id)
        programme = (
            uow.funding.programme(seen.programme_id, for_update=True) if seen.action in (REVOCATION, BUDGET_RAISE) else None
        )
        account = uow.funding.account(seen.service_id, for_update=True) if seen.service_id else None
        request = uow.funding.approval(cmd.approval_id, for_update=True)
        request.approve(cmd.actor, cmd.person, now)
        if request.action == RELEASE:
            _release(
                uow,
                account,
                request.target_id,
                request.requested_by,
                now,
                request.evidence,
                request.reason,
                approved_by=cmd.actor,
            )
        elif request.action == REVOCATION:
            _revoke(account, programme, request.target_id, request.requested_by, request.reason, approved_by=cmd.actor)
        else:  # a budget raise: its programme was loaded above (the ignore)
            programme.raise_budget(  # type: ignore[union-attr]
                request.budget_cents,
                request.requested_by,
                request.reason,
                approved_by=cmd.actor,
            )
        uow.commit()
        return approval_answer(request, uow.staff_log.history([request.id])[request.id])


def reject(uow, cmd: commands.DecideApproval, now=None):
    """Any funding officer may turn a request down (its requester too: a withdrawal), with a reason."""
    with uow:
        request = uow.funding.approval(cmd.approval_id, for_update=True)
        request.reject(cmd.actor, now or utcnow(), cmd.reason)
        uow.commit()
        return approval_answer(request, uow.staff_log.history([request.id])[request.id])


def expire_approvals(uow, now=None):
    """Requests left unanswered past their time: expired (`funding.<action>_expired`). Returns how many."""
    now = now or utcnow()
    with uow:
        expired = [r for r in uow.funding.pending_approvals(expired_at=now) if r.expire(now)]
        uow.commit()
        return len(expired)


def list_approvals(uow, status=None):
    with uow:
        return out(ApprovalList).dump(whole([_approval(r) for r in uow.funding.approvals(status)]))


def get_approval(uow, approval_id):
    with uow:
        request = uow.funding.approval(approval_id)
        return approval_answer(request, uow.staff_log.history([request.id])[request.id])


def approval_answer(request, history):
    return out(ApprovalOut).dump(_approval(request, history=history))


def _approval(request, **extra):
    return Answer(request, approval_id=request.id, target=TARGETS[request.action], **extra)


def on_service_standing(uow, event):
    """registry.service_* and registry.pact_amended: follow the newest standing; freeze, unfreeze
    or cancel tranches (a cancelled tranche's amount goes back to its programme)."""
    p = event.payload
    # programmes before the account, as a grant locks them: a revocation gives back to them
    locked = uow.funding.programmes_of_service(p["service_id"], for_update=True) if p["status"] == "revoked" else {}
    account = uow.funding.account(p["service_id"], for_update=True, create=True)
    applied = account.apply_standing(p["status"], p["version"], p.get("reason"), to_db(event.occurred_at))
    for programme_id, cents in account.pull_returns().items():
        programme = locked.get(programme_id) or uow.funding.programme(programme_id, for_update=True)
        programme.give_back(cents)
    if applied and (account.frozen or account.status == "revoked"):
        # what a pending request rests on changed: it is turned down, never approved later
        for request in uow.funding.pending_approvals(service_id=p["service_id"]):
            request.void(
                utcnow(),
                f"the service is {account.status} (registry version {p['version']}"
                f"{': ' + p['reason'] if p.get('reason') else ''})",
            )


EVENT_HANDLERS = {event_type: on_service_standing for event_type in events.SERVICE_LIFECYCLE}
CONSUMERS = (Consumes(topology.FUNDING_EVENTS, EVENT_HANDLERS, URGENT),)


def service_funding(uow, service_id):
    with uow:
        account = uow.funding.account(service_id)
        if account is None:
            return out(FundingOut).dump({"service_id": service_id, "frozen": False, "status": "unknown", "grants": []})
        histories = uow.staff_log.history([g.id for g in account.grants])
        return out(FundingOut).dump(Answer(account, grants=[Answer(g, history=histories[g.id]) for g in account.grants]))


def list_programmes(uow):
    with uow:
        programmes = uow.funding.programmes()
        cents = uow.funding.tranche_cents_by_programme([p.id for p in programmes])
        return out(ProgrammeList).dump(whole([programme_seen(p, cents.get(p.id, {})) for p in programmes]))


def get_programme(uow, programme_id):
    with uow:
        return _programme_answer(uow, uow.funding.programme(programme_id))


def _programme_answer(uow, programme):
    cents = uow.funding.tranche_cents_by_programme([programme.id]).get(programme.id, {})
    history = uow.staff_log.history([programme.id])[programme.id]
    return out(ProgrammeOut).dump(programme_seen(programme, cents, history=history))


def programme_seen(p, cents, **extra):
    """The programme as ProgrammeOut dumps it. `cents`: {tranche status: cents} of the programme's
    tranches. committed = released + scheduled + frozen; budget = committed + available."""
    return Answer(p, **{f"{status}_cents": cents.get(status, 0) for status in TRANCHE_STATUSES}, **extra)


def grant_answer(grant, histories):
    """`histories`: {grant id: who did what to it}."""
    return out(GrantOut).dump(Answer(grant, history=histories[grant.id]))


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): funding's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.funding.standings(after, limit)


def holdings(uow):
    """For the metrics: tranches by status, in number and in cents (frozen funding among them)."""
    with uow:
        rows = uow.funding.tranches_by_status()
        return {**{("tranches", s): n for s, n, _ in rows}, **{("tranche_cents", s): c or 0 for s, _, c in rows}}


def deadlines(uow, until, service_id=None):
    """Funding's deadlines up to `until` (shared/sql/reminders.py): the scheduled tranches' milestones."""
    return milestones(uow.funding.scheduled_tranches(until, service_id))
