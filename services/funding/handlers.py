"""Funding's use cases: one transaction each, events committed with the change."""
import uuid

from spc.shared import events
from spc.shared.clock import to_db, to_wire, utcnow
from spc.shared.errors import KNOWN_WAIT_SECONDS, until_known
from spc.shared.lists import whole

from .domain import commands
from .domain.funder import Funder
from .domain.model import TRANCHE_STATUSES, Programme


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
        grant = account.award(_id(), programme, cmd.tranches, _id)
        uow.commit()
        return grant_view(grant, uow.staff_log.history([grant.id]))


def release_tranche(uow, cmd: commands.ReleaseTranche, now=None):
    """Release a tranche: the payment order, published once per tranche, ever; before its due
    date only with a reason. `now` (UTC, naive) is the wall clock unless a test gives one."""
    with uow:
        service_id = uow.funding.service_of_tranche(cmd.tranche_id)
        account = uow.funding.account(service_id, for_update=True)
        now = now or utcnow()
        tranche = account.release(cmd.tranche_id, cmd.actor, now, cmd.evidence, cmd.reason)
        (order,) = uow.collect_new_events()  # the payment order, kept with its event's id
        uow.funding.record_payment_order(tranche, order.event_id, now)
        uow.commit()
        return tranche_view(tranche, uow.staff_log.history([tranche.id])[tranche.id])


def on_service_standing(uow, event):
    """registry.service_* and registry.pact_amended: follow the newest standing; freeze, unfreeze
    or cancel tranches (a cancelled tranche's amount goes back to its programme)."""
    p = event.payload
    # programmes before the account, as a grant locks them: a revocation gives back to them
    locked = uow.funding.programmes_of_service(p["service_id"], for_update=True) if p["status"] == "revoked" else {}
    account = uow.funding.account(p["service_id"], for_update=True, create=True)
    account.apply_standing(p["status"], p["version"], p.get("reason"), to_db(event.occurred_at))
    for programme_id, cents in account.pull_returns().items():
        programme = locked.get(programme_id) or uow.funding.programme(programme_id, for_update=True)
        programme.give_back(cents)


EVENT_HANDLERS = {event_type: on_service_standing for event_type in events.SERVICE_LIFECYCLE}


def service_funding(uow, service_id):
    with uow:
        account = uow.funding.account(service_id)
        if account is None:
            return {"service_id": service_id, "frozen": False, "status": "unknown", "grants": []}
        histories = uow.staff_log.history([g.id for g in account.grants])
        return {"service_id": service_id, "frozen": account.frozen, "status": account.status,
                "grants": [grant_view(g, histories) for g in account.grants]}


def list_programmes(uow):
    with uow:
        programmes = uow.funding.programmes()
        cents = uow.funding.tranche_cents_by_programme([p.id for p in programmes])
        return whole([programme_view(p, cents.get(p.id, {})) for p in programmes])


def get_programme(uow, programme_id):
    with uow:
        return _programme_answer(uow, uow.funding.programme(programme_id))


def _programme_answer(uow, programme):
    cents = uow.funding.tranche_cents_by_programme([programme.id]).get(programme.id, {})
    return programme_view(programme, cents, uow.staff_log.history([programme.id])[programme.id])


def programme_view(p, cents, history=None):
    """`cents`: {tranche status: cents} of the programme's tranches. committed = released +
    scheduled + frozen; budget = committed + available."""
    return {**({"history": history} if history is not None else {}),
            "id": p.id, "name": p.name, "funder": p.funder and p.funder.view(), "legal_basis": p.legal_basis,
            "budget_cents": p.budget_cents, "committed_cents": p.committed_cents,
            "available_cents": p.available_cents,
            **{f"{status}_cents": cents.get(status, 0) for status in TRANCHE_STATUSES}}


def grant_view(g, histories=None):
    """`histories`: {grant id: who did what to it} when the answer shows them."""
    return {**({"history": histories[g.id]} if histories is not None else {}),
            "id": g.id, "programme_id": g.programme_id, "service_id": g.service_id,
            "total_cents": g.total_cents, "tranches": [tranche_view(t) for t in g.tranches]}


def tranche_view(t, history=None):
    return {**({"history": history} if history is not None else {}),
            "id": t.id, "grant_id": t.grant_id, "amount_cents": t.amount_cents,
            "due_date": t.due_date.isoformat(), "milestone": t.milestone, "status": t.status,
            "released_by": t.released_by, "released_at": to_wire(t.released_at),
            "release_evidence": t.release_evidence, "release_reason": t.release_reason}


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
