"""The registry's use cases: one transaction each, events committed with the change."""

import logging
import uuid

from spc.shared.messaging import topology
from spc.shared.core.answers import Answer, out
from spc.shared.core.clock import to_db, utcnow
from spc.shared.core.dispatch import URGENT, Consumes
from spc.shared.core.errors import Rejection
from spc.shared.core.lists import whole

from .domain import commands, identity
from .domain.model import CitizenService
from .domain.pact import Pact
from .exceptions import AlreadyRegistered, PactVersionNotFound, ServiceNotFound
from .schemas import AmendmentOut, AmendmentPage, PactOut, ServiceOut, ServicePage

log = logging.getLogger(__name__)


def _today(today):
    return today or utcnow().date()


def register_service(uow, cmd: commands.RegisterService, today=None, registries=None):
    """Register a citizen service with its pact (version 1); it starts `submitted`. The same
    organisation registering the same name again is told the existing id (409). `registries`
    (the identity port): asked about the declared SIREN before the transaction; when it cannot
    tell, the service is kept `unverified` and asked again later (`recheck_identities`)."""
    found = None
    if registries is not None and not cmd.pact.problems(_today(today)):
        found = identity.check(registries, cmd.pact.legal_form, cmd.pact.siren, cmd.pact.rna)
    with uow:
        service = CitizenService.register(str(uuid.uuid4()), cmd.pact, cmd.actor, _today(today))
        if found is not None:
            service.record_identity(found, utcnow())
        uow.services.lock_organisation(service)
        existing = uow.services.same_organisation(service)
        if existing is not None:
            raise AlreadyRegistered(
                f"{existing.siren or existing.rna} already registered {existing.name!r}",
                {"service_id": existing.id, "siren": existing.siren, "rna": existing.rna},
            )
        uow.services.add(service)
        uow.services.keep_version(service, None, cmd.actor, utcnow())
        uow.commit()
        return out(ServiceOut).dump(service_seen(service, history=_history(uow, service.id)))


def approve_service(uow, cmd: commands.ApproveService, today=None):
    """Approve a submitted service: it becomes `active`."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        service.approve(_today(today), cmd.reason)
        uow.commit()
        return out(ServiceOut).dump(service_seen(service, history=_history(uow, service.id)))


def revoke_service(uow, cmd: commands.RevokeService):
    """Revoke a service for good."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        service.revoke(cmd.reason or f"revoked by {cmd.actor}")
        uow.commit()
        return out(ServiceOut).dump(service_seen(service, history=_history(uow, service.id)))


def propose_amendment(uow, cmd: commands.ProposeAmendment, today=None):
    """A registrar proposes a change to a service's pact (checked now, effective when approved)."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        amendment = service.propose_amendment(str(uuid.uuid4()), cmd.changes, cmd.reason, cmd.actor, utcnow(), _today(today))
        uow.services.add_amendment(amendment)
        uow.commit()
        return out(AmendmentOut).dump(Answer(amendment, history=_history(uow, amendment.id)))


def approve_amendment(uow, cmd: commands.DecideAmendment, today=None):
    """The amendment becomes the pact's next version; `registry.pact_amended` carries the new
    standing (distribution relists on the new territories by itself)."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        amendment = uow.services.amendment(cmd.service_id, cmd.amendment_id, for_update=True)
        service.approve_amendment(amendment, cmd.actor, utcnow(), _today(today))
        uow.services.index(service)
        uow.services.keep_version(service, amendment.id, cmd.actor, amendment.decided_at)
        uow.commit()
        return out(AmendmentOut).dump(Answer(amendment, history=_history(uow, amendment.id)))


def reject_amendment(uow, cmd: commands.DecideAmendment):
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        amendment = uow.services.amendment(cmd.service_id, cmd.amendment_id, for_update=True)
        service.reject_amendment(amendment, cmd.actor, utcnow(), cmd.reason)
        uow.commit()
        return out(AmendmentOut).dump(Answer(amendment, history=_history(uow, amendment.id)))


def list_amendments(uow, service_id):
    with uow:
        uow.services.get(service_id)
        return out(AmendmentPage).dump(whole(uow.services.amendments(service_id), service_id=service_id))


def get_pact(uow, service_id, version=None):
    """The pact at `version` (default: the current one), with its signatories, commitments,
    governance and term, and the list of its versions."""
    with uow:
        service = uow.services.get(service_id)
        versions = uow.services.pact_versions(service_id)
        wanted = version or service.pact_version
        chosen = next((v for v in versions if v.version == wanted), None)
        if chosen is None:
            raise PactVersionNotFound(
                f"service {service_id} has no pact version {wanted}",
                {"service_id": service_id, "version": wanted, "versions": [v.version for v in versions]},
            )
        return out(PactOut).dump(pact_seen(service, chosen, versions))


def expire_terms(uow, today=None, batch=100):
    """Services whose pact's term ended are no longer active (`registry.service_expired`)."""
    expired = 0
    with uow:
        for service_id in uow.services.due_to_expire(_today(today), batch):
            expired += uow.services.get(service_id, for_update=True).expire(_today(today))
        uow.commit()
    return expired


def recheck_identities(uow, registries, batch=20, every_seconds=3600):
    """Ask the registries again about services still `unverified` (asked more than
    `every_seconds` ago, or never), a few at a time: each answer is its own transaction, asked
    outside any. Stops at the first the registries cannot answer (they are down or over their
    limits: the next round tries again). Returns how many were settled."""
    from datetime import timedelta

    with uow:
        due = [
            (s.id, s.legal_form, s.siren, s.rna)
            for s in (
                uow.services.get(i)
                for i in uow.services.identity_unsettled(
                    batch, utcnow() - timedelta(seconds=every_seconds), rna_only=registries.serves_rna
                )
            )
        ]
    settled = 0
    for service_id, legal_form, siren, rna in due:
        found = identity.check(registries, legal_form, siren, rna)
        with uow:
            service = uow.services.get(service_id, for_update=True)
            service.record_identity(found, utcnow())
            uow.commit()
        if found.outcome == identity.UNVERIFIED:
            break
        settled += found.outcome != identity.UNVERIFIED
    return settled


def get_service(uow, service_id):
    with uow:
        return out(ServiceOut).dump(service_seen(uow.services.get(service_id), history=_history(uow, service_id)))


def list_services(uow, limit=50, offset=0, **filters):
    with uow:
        rows, total = uow.services.list(limit=limit, offset=offset, **filters)
        return out(ServicePage).dump({"items": [service_seen(s) for s in rows], "total": total, "limit": limit, "offset": offset})


def on_audit_decision(uow, event):
    """audit.violation_confirmed / audit.violation_resolved: suspend or reinstate, newest wins."""
    p = event.payload
    try:
        service = uow.services.get(p["service_id"], for_update=True)
    except ServiceNotFound:
        raise Rejection("unknown_service", f"no service {p['service_id']}") from None
    service.apply_audit_decision(
        p["audit_version"], p["open_violations"], p["finding_id"], p.get("principle"), to_db(event.occurred_at)
    )


def on_reminder_due(uow, event):
    """`*.reminder_due`: the service's contact is e-mailed (mail_outbox, in this transaction; the
    mail relay sends it: mailer.py). A service with no contact address gets none."""
    from .domain.mail import reminder_mail

    p = event.payload
    try:
        service = uow.services.get(p["service_id"])
    except ServiceNotFound:
        log.warning("%s for service %s, which the registry does not know: no e-mail", event.event_type, p["service_id"])
        return
    to = service.pact.contact_email
    if to:
        uow.mails.queue(p["reminder_id"], service.id, reminder_mail(to, service.name, service.id, p))


EVENT_HANDLERS = {
    "audit.violation_confirmed": on_audit_decision,
    "audit.violation_resolved": on_audit_decision,
    **{f"{producer}.reminder_due": on_reminder_due for producer in ("registry", "funding", "audit")},
}
CONSUMERS = (Consumes(topology.REGISTRY_EVENTS, EVENT_HANDLERS, URGENT),)


def _history(uow, subject_id):
    return uow.staff_log.history([subject_id])[subject_id]


def service_seen(service, **extra):
    """The service as ServiceOut dumps it (contract v1 fields, plus the pact's version and what a
    complete pact still misses); `history`: who did what to it through the admin API (single
    resource answers only)."""
    pact = service.pact
    return Answer(
        service,
        mission=pact.mission,
        domains=pact.domains,
        territories=pact.territories,
        commitments=list(pact.commitments),
        contact_email=pact.contact_email,
        pact_missing=pact.missing(),
        identity={
            "outcome": service.identity_status,
            "fields": dict(service.identity_fields or {}),
            "source": service.identity_source or None,
            "checked_at": service.identity_checked_at,
        },
        **extra,
    )


def pact_seen(service, chosen, versions):
    """The pact version `chosen` as PactOut dumps it, with every version of the pact."""
    missing = Pact.from_dict(dict(chosen.document)).missing()
    return Answer(
        chosen,
        service_id=service.id,
        current=chosen.version == service.pact_version,
        complete=not missing,
        missing=missing,
        pact=dict(chosen.document),
        versions=versions,
    )


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): registry's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.services.standings(after, limit)


def holdings(uow):
    """For the metrics: services by status."""
    with uow:
        return {("services", status): n for status, n, _ in uow.services.by_status()}


def deadlines(uow, until, service_id=None):
    """The registry's deadlines up to `until` (shared/sql/reminders.py): pacts' terms, pilots' evaluations."""
    from .domain.reminders import pact_deadlines

    return [
        d
        for sid, status, term in uow.services.followed_terms(service_id)
        for d in pact_deadlines(sid, status, term)
        if d.due_on <= until
    ]
