"""A registered citizen service and its lifecycle, and the amendments to its pact.

    submitted → active ⇄ suspended, → revoked;  active/suspended → expired (the pact's term
    ended) → active/suspended again when an amendment renews the term.

Every change of standing (status, territories, pact) bumps `version` and records the whole
standing, so consumers keep the newest. An amendment changes the pact, never the status: it does
not reactivate a suspended or revoked service (only a renewal ends an expiry).
"""

import unicodedata
from datetime import date, datetime

# Optional[X], not X | None: the mutation run (tests/mutation) would mutate the `|`, in annotations too
from typing import Any, Mapping, Optional

from spc.shared.core.domain import Aggregate

from ..exceptions import AmendmentNotPending, IdentityMismatch, IllegalTransition, InvalidPact, OpenViolations, TermEnded
from . import events, identity
from .pact import AMENDABLE, IDENTITY, Pact

SUBMITTED, ACTIVE, SUSPENDED, REVOKED, EXPIRED = "submitted", "active", "suspended", "revoked", "expired"
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"


def name_key(name: str) -> str:
    """Two registrations are the same service when the same organisation gives the same name,
    whatever the case, accents or spacing."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().split())


class CitizenService(Aggregate):
    """The registry's aggregate. `version` grows with every change of standing; `audit_version`
    is the newest audit decision applied, so a stale or redelivered decision is never applied;
    `pact_version` counts the pact's versions (1 at registration, +1 per approved amendment)."""

    def __init__(self, id: str, pact: Pact, registered_by: str = "", status: str = SUBMITTED, version: int = 1) -> None:
        self.id = id
        self.name, self.legal_form, self.siren, self.rna = pact.name, pact.legal_form, pact.siren, pact.rna
        self.name_key = name_key(pact.name)
        self._set_pact(pact)
        self.pact_version = 1
        self.status, self.version = status, version
        self.audit_version, self.open_violations = 0, 0
        self.registered_by = registered_by
        self.status_reason: Optional[str] = None
        self.suspended_since: Optional[datetime] = None
        self.suspension_principle: Optional[str] = None
        self.identity_fields: dict[str, str]
        self.identity_status, self.identity_fields, self.identity_source = identity.UNVERIFIED, {}, ""
        self.identity_checked_at: Optional[datetime] = None

    @classmethod
    def register(cls, id: str, pact: Pact, actor: str = "", today: Optional[date] = None) -> "CitizenService":
        problems = pact.problems(today)
        if problems:
            raise InvalidPact("the pact is not valid", {"fields": problems})
        service = cls(id, pact, registered_by=actor)
        service._record_standing("submitted")
        return service

    @property
    def pact(self) -> Pact:
        return Pact.from_dict(self.pact_document)

    # -- identity --------------------------------------------------------------------------------
    def record_identity(self, check: identity.IdentityCheck, at: datetime) -> bool:
        """What the registries said of the declared identity (domain/identity.py). A settled
        outcome that differs from the one kept is published (`registry.identity_verified`, or
        `registry.identity_mismatch` for a mismatch or not_found); `unverified` keeps any earlier
        settled outcome and is asked again later."""
        if check.outcome == identity.UNVERIFIED and self.identity_status in identity.SETTLED:
            return False
        changed = (check.outcome, check.fields) != (self.identity_status, self.identity_fields or {})
        self.identity_status, self.identity_fields = check.outcome, dict(check.fields)
        self.identity_source, self.identity_checked_at = check.source, at
        if changed and check.outcome in (identity.VERIFIED, identity.MISMATCH, identity.NOT_FOUND):
            self._record(
                events.IdentityChecked(
                    change="verified" if check.outcome == identity.VERIFIED else "mismatch",
                    service_id=self.id,
                    outcome=check.outcome,
                    fields=dict(check.fields),
                    source=check.source,
                    siren=self.siren,
                )
            )
        return changed

    @property
    def identity_doubted(self) -> bool:
        return self.identity_status in (identity.MISMATCH, identity.NOT_FOUND)

    # -- status ----------------------------------------------------------------------------------
    def approve(self, today: Optional[date] = None, reason: Optional[str] = None) -> None:
        """`reason`: why a registrar approves although the registries disagree with the declared
        identity (required then; kept as the status reason)."""
        self._require(SUBMITTED, action="approve")
        if self.identity_doubted and not (reason or "").strip():
            raise IdentityMismatch(
                "the national registries disagree with the declared identity: approve with a reason",
                {"identity": self.identity_status, "fields": self.identity_fields},
            )
        if self.open_violations:
            raise OpenViolations("the service has open violations", {"open_violations": self.open_violations})
        if self._term_ended(today):  # (so term_ends_on is set: the ignore below)
            raise TermEnded(
                "the pact's term has ended: renew it by an amendment first",
                {"ends_on": self.term_ends_on.isoformat()},  # type: ignore[union-attr]
            )
        # doubted: a reason was required above, so `reason` is a string (the ignore)
        self._move(ACTIVE, "approved", reason.strip() if self.identity_doubted else None)  # type: ignore[union-attr]

    def revoke(self, reason: Optional[str]) -> None:
        if self.status == REVOKED:
            raise IllegalTransition("the service is already revoked", {"status": self.status})
        self._move(REVOKED, "revoked", reason)

    def apply_audit_decision(
        self,
        audit_version: int,
        open_violations: int,
        finding_id: Optional[str],
        principle: Optional[str] = None,
        at: Optional[datetime] = None,
    ) -> bool:
        """Suspend on an open violation, reinstate when none is left; ignore stale decisions.
        A suspension keeps when it began (`at`, the decision's time) and the principle of the
        violation that caused it (forgotten when that one is resolved and others remain), until
        no violation is left. Returns False when the decision was older than one already applied."""
        if audit_version <= self.audit_version:
            return False
        if 0 < open_violations < self.open_violations and principle == self.suspension_principle:
            self.suspension_principle = None  # that violation is resolved: which others remain is audit's
        self.audit_version, self.open_violations = audit_version, open_violations
        if open_violations > 0 and self.status == ACTIVE:
            self.suspended_since, self.suspension_principle = at, principle
            cause = f"a violation of {principle} is open" if principle else "a violation is open"
            self._move(SUSPENDED, "suspended", f"{cause} (finding {finding_id})")
        elif open_violations == 0:
            self.suspended_since = self.suspension_principle = None
            if self.status == SUSPENDED:
                self._move(ACTIVE, "reinstated", f"resolved {finding_id}")
        return True

    def expire(self, today: Optional[date]) -> bool:
        """The pact's term ended: an active or suspended service is no longer active."""
        if self.status in (ACTIVE, SUSPENDED) and self._term_ended(today):  # (so term_ends_on is set: the ignore)
            self._move(EXPIRED, "expired", f"term ended on {self.term_ends_on.isoformat()}")  # type: ignore[union-attr]
            return True
        return False

    # -- amendments ------------------------------------------------------------------------------
    def propose_amendment(
        self, amendment_id: str, changes: Mapping[str, Any], reason: str, actor: str, at: datetime, today: Optional[date] = None
    ) -> "Amendment":
        """A change to the pact, checked now against the current pact; it takes effect when approved."""
        if self.status == REVOKED:
            raise IllegalTransition("a revoked service's pact cannot be amended", {"status": self.status, "action": "amend"})
        self._amended_pact(changes, today)
        amendment = Amendment(amendment_id, self.id, changes, reason, actor, at, self.pact_version)
        self._record(
            events.AmendmentDecided(
                change="proposed",
                service_id=self.id,
                amendment_id=amendment_id,
                parts=sorted(changes),
                base_version=self.pact_version,
                reason=reason,
            )
        )
        return amendment

    def reject_amendment(self, amendment: "Amendment", actor: str, at: datetime, reason: Optional[str]) -> None:
        amendment.reject(actor, at, reason)
        self._record(
            events.AmendmentDecided(
                change="rejected",
                service_id=self.id,
                amendment_id=amendment.id,
                parts=sorted(amendment.changes),
                base_version=amendment.base_version,
                reason=reason or f"rejected by {actor}",
            )
        )

    def approve_amendment(self, amendment: "Amendment", actor: str, at: datetime, today: Optional[date] = None) -> None:
        """The amendment becomes the pact's next version; the new standing goes out as
        `registry.pact_amended`. A renewal (a term ending later) ends an expiry; nothing else
        changes the status."""
        amendment.require_pending()
        if self.status == REVOKED:
            raise IllegalTransition("a revoked service's pact cannot be amended", {"status": self.status, "action": "amend"})
        pact = self._amended_pact(amendment.changes, today)
        self._set_pact(pact)
        self.pact_version += 1
        amendment.decide(APPROVED, actor, at, pact_version=self.pact_version)
        if self.status == EXPIRED and not self._term_ended(today):
            self.status = SUSPENDED if self.open_violations else ACTIVE
            if self.status == SUSPENDED:
                self.suspended_since = self.suspended_since or at
            self.status_reason = f"renewed by amendment {amendment.id}"
        self.version += 1
        self._record_standing("pact_amended", f"amendment {amendment.id}", amendment.id)

    def _amended_pact(self, changes: Mapping[str, Any], today: Optional[date]) -> Pact:
        if not changes:
            raise InvalidPact(
                "an amendment changes at least one part of the pact",
                {"fields": {"changes": f"give one or more of {', '.join(AMENDABLE)}"}},
            )
        current = self.pact
        pact = current.amended(changes)
        # an identity registered before today's rules (not amendable) does not block amendments
        inherited = {k for k in current.problems(today) if k in IDENTITY}
        problems = {k: v for k, v in pact.problems(today).items() if k not in inherited}
        if problems:
            raise InvalidPact("the amended pact would not be valid", {"fields": problems})
        return pact

    # -- internals -------------------------------------------------------------------------------
    @property
    def territories(self) -> dict[str, Any]:
        return self.pact.territories.as_dict()

    def _set_pact(self, pact: Pact) -> None:
        self.pact_document = pact.to_dict()
        self.term_ends_on = pact.ends_on()

    def _term_ended(self, today: Optional[date]) -> bool:
        return bool(today and self.term_ends_on and self.term_ends_on < today)

    def _require(self, status: str, action: str) -> None:
        if self.status != status:
            raise IllegalTransition(f"cannot {action} a service that is {self.status}", {"status": self.status, "action": action})

    def _move(self, status: str, change: str, reason: Optional[str]) -> None:
        self.status, self.status_reason = status, reason
        self.version += 1
        self._record_standing(change, reason)

    def _record_standing(self, change: str, reason: Optional[str] = None, amendment_id: Optional[str] = None) -> None:
        pact = self.pact
        self._record(
            events.StandingChanged(
                change=change,
                service_id=self.id,
                name=self.name,
                status=self.status,
                version=self.version,
                territories=pact.territories.as_dict(),
                reason=reason,
                pact_version=self.pact_version,
                amendment_id=amendment_id,
                commitments=[{"principle": p, "text": t} for p, t in pact.commitments.items()],
                mission=pact.mission,
                domains=list(pact.domains),
                contact_email=pact.contact_email,
                referral=pact.referral,
            )
        )


class Amendment:
    """A proposed change to a service's pact: `proposed`, then `approved` (it made pact version
    `pact_version`) or `rejected`."""

    def __init__(
        self,
        id: str,
        service_id: str,
        changes: Mapping[str, Any],
        reason: str,
        proposed_by: str,
        proposed_at: datetime,
        base_version: int,
    ) -> None:
        self.id, self.service_id, self.changes, self.reason = id, service_id, changes, reason
        self.proposed_by, self.proposed_at, self.base_version = proposed_by, proposed_at, base_version
        self.status = PROPOSED
        self.decided_by: Optional[str] = None
        self.decided_at: Optional[datetime] = None
        self.decision_reason: Optional[str] = None
        self.pact_version: Optional[int] = None

    def require_pending(self) -> None:
        if self.status != PROPOSED:
            raise AmendmentNotPending(f"the amendment is already {self.status}", {"status": self.status})

    def reject(self, actor: str, at: datetime, reason: Optional[str]) -> None:
        self.require_pending()
        self.decide(REJECTED, actor, at, reason=reason)

    def decide(
        self, status: str, actor: str, at: datetime, pact_version: Optional[int] = None, reason: Optional[str] = None
    ) -> None:
        self.status, self.decided_by, self.decided_at = status, actor, at
        self.pact_version, self.decision_reason = pact_version, reason


class PactVersion:
    """One version of a service's pact, as it stood from `recorded_at`."""

    def __init__(
        self,
        service_id: str,
        version: int,
        document: dict[str, Any],
        amendment_id: Optional[str],
        recorded_by: str,
        recorded_at: datetime,
    ) -> None:
        self.service_id, self.version, self.document = service_id, version, document
        self.amendment_id, self.recorded_by, self.recorded_at = amendment_id, recorded_by, recorded_at

    @classmethod
    def of(cls, service: CitizenService, amendment_id: Optional[str], actor: str, at: datetime) -> "PactVersion":
        return cls(service.id, service.pact_version, service.pact_document, amendment_id, actor, at)
