"""The registry's use cases: one transaction each, events committed with the change."""
import uuid

from spc.shared.errors import Rejection

from .domain import commands
from .domain.model import CitizenService
from .exceptions import ServiceNotFound


def register_service(uow, cmd: commands.RegisterService):
    """Register a citizen service with its pact; it starts `submitted`."""
    with uow:
        service = CitizenService.register(str(uuid.uuid4()), cmd.pact, cmd.actor)
        uow.services.add(service)
        uow.commit()
        return view(service, _history(uow, service.id))


def approve_service(uow, cmd: commands.ApproveService):
    """Approve a submitted service: it becomes `active`."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        service.approve()
        uow.commit()
        return view(service, _history(uow, service.id))


def revoke_service(uow, cmd: commands.RevokeService):
    """Revoke a service for good."""
    with uow:
        service = uow.services.get(cmd.service_id, for_update=True)
        service.revoke(cmd.reason or f"revoked by {cmd.actor}")
        uow.commit()
        return view(service, _history(uow, service.id))


def get_service(uow, service_id):
    with uow:
        return view(uow.services.get(service_id), _history(uow, service_id))


def list_services(uow, status=None, department=None, limit=50, offset=0):
    with uow:
        rows, total = uow.services.list(status, department, limit, offset)
        return {"items": [view(s) for s in rows], "total": total, "limit": limit, "offset": offset}


def on_audit_decision(uow, event):
    """audit.violation_confirmed / audit.violation_resolved: suspend or reinstate, newest wins."""
    p = event.payload
    try:
        service = uow.services.get(p["service_id"], for_update=True)
    except ServiceNotFound:
        raise Rejection("unknown_service", f"no service {p['service_id']}") from None
    service.apply_audit_decision(p["audit_version"], p["open_violations"], p["finding_id"])


EVENT_HANDLERS = {
    "audit.violation_confirmed": on_audit_decision,
    "audit.violation_resolved": on_audit_decision,
}


def _history(uow, subject_id):
    return uow.staff_log.history([subject_id])[subject_id]


def view(service, history=None):
    """The service as staff see it; `history`: who did what to it through the admin API (single
    resource answers only)."""
    return {
        "id": service.id, "name": service.name, "legal_form": service.legal_form,
        "siren": service.siren, "rna": service.rna, "mission": service.mission,
        "domains": list(service.domains), "territories": service.territories,
        "commitments": list(service.commitments), "contact_email": service.contact_email,
        "status": service.status, "status_reason": service.status_reason,
        "version": service.version, "open_violations": service.open_violations,
        **({"history": history} if history is not None else {}),
    }


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): registry's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.services.standings(after, limit)


def holdings(uow):
    """For the metrics: services by status."""
    with uow:
        return {("services", status): n for status, n, _ in uow.services.by_status()}
