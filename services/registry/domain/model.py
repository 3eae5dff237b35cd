"""A registered citizen service and its lifecycle: submitted → active ⇄ suspended, → revoked."""
from spc.shared.domain import Aggregate

from ..exceptions import IllegalTransition, InvalidPact, OpenViolations
from . import events
from .pact import Pact

SUBMITTED, ACTIVE, SUSPENDED, REVOKED = "submitted", "active", "suspended", "revoked"


class CitizenService(Aggregate):
    """The registry's aggregate. `version` grows with every change of status; `audit_version` is
    the newest audit decision applied, so a stale or redelivered decision is never applied."""

    def __init__(self, id, pact: Pact, registered_by="", status=SUBMITTED, version=1):
        self.id = id
        self.name, self.legal_form, self.mission = pact.name, pact.legal_form, pact.mission
        self.siren, self.rna, self.contact_email = pact.siren, pact.rna, pact.contact_email
        self.domains, self.commitments = list(pact.domains), list(pact.commitments)
        self.departments, self.communes = list(pact.departments), list(pact.communes)
        self.status, self.version = status, version
        self.audit_version, self.open_violations = 0, 0
        self.registered_by = registered_by
        self.status_reason = None

    @classmethod
    def register(cls, id, pact: Pact, actor=""):
        problems = pact.problems()
        if problems:
            raise InvalidPact("the pact is not valid", {"fields": problems})
        service = cls(id, pact, registered_by=actor)
        service._record_standing("submitted")
        return service

    def approve(self):
        self._require(SUBMITTED, action="approve")
        if self.open_violations:
            raise OpenViolations("the service has open violations",
                                 {"open_violations": self.open_violations})
        self._move(ACTIVE, "approved", None)

    def revoke(self, reason):
        if self.status == REVOKED:
            raise IllegalTransition("the service is already revoked", {"status": self.status})
        self._move(REVOKED, "revoked", reason)

    def apply_audit_decision(self, audit_version, open_violations, finding_id):
        """Suspend on an open violation, reinstate when none is left; ignore stale decisions.
        Returns False when the decision was older than one already applied."""
        if audit_version <= self.audit_version:
            return False
        self.audit_version, self.open_violations = audit_version, open_violations
        if open_violations > 0 and self.status == ACTIVE:
            self._move(SUSPENDED, "suspended", f"violation {finding_id}")
        elif open_violations == 0 and self.status == SUSPENDED:
            self._move(ACTIVE, "reinstated", f"resolved {finding_id}")
        return True

    @property
    def territories(self):
        return {"departments": list(self.departments), "communes": list(self.communes)}

    def _require(self, status, action):
        if self.status != status:
            raise IllegalTransition(f"cannot {action} a service that is {self.status}",
                                    {"status": self.status, "action": action})

    def _move(self, status, change, reason):
        self.status, self.status_reason = status, reason
        self.version += 1
        self._record_standing(change, reason)

    def _record_standing(self, change, reason=None):
        self._record(events.StandingChanged(change, self.id, self.name, self.status, self.version,
                                            self.territories, reason))
