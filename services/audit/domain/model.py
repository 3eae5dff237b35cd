"""Findings and each service's compliance standing.

`major` and `critical` findings are violations: they are confirmed at once, with no human step.
A `minor` finding opens with a remediation deadline (30 days by default); unresolved at the
deadline it escalates to a violation, as it does when an auditor escalates it. The service answers
a finding with a remediation plan and a date, then reports it done; an auditor resolves it. Each
decision bumps the service's `audit_version`.
"""

from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from spc.shared.core.clock import to_wire
from spc.shared.core.domain import Aggregate

from ..exceptions import AlreadyAViolation, AlreadyResolved, NotAnswered, RemediationAlreadyReported
from . import events

VIOLATION_SEVERITIES = ("major", "critical")
REMEDIATION_DAYS = 30
OPEN, RESOLVED = "open", "resolved"


class Finding:
    def __init__(
        self,
        id: str,
        service_id: str,
        principle: str,
        severity: str,
        summary: str,
        reported_by: str,
        created_at: datetime,
        evidence_url: str | None = None,
        source_event_id: str | None = None,
        remediation_days: int = REMEDIATION_DAYS,
        threshold_category: str | None = None,
    ) -> None:
        self.id, self.service_id = id, service_id
        self.principle, self.severity, self.summary = principle, severity, summary
        self.reported_by, self.evidence_url, self.source_event_id = reported_by, evidence_url, source_event_id
        self.created_at = created_at
        self.is_violation = severity in VIOLATION_SEVERITIES
        # none for a violation, nor for a finding the report threshold opened (reports alone never
        # suspend a service: an auditor escalates it, or not)
        self.remediation_deadline = (
            None if self.is_violation or threshold_category else created_at + timedelta(days=remediation_days)
        )
        self.resolution: str | None
        self.resolved_by: str | None
        self.resolved_at: datetime | None
        self.status, self.resolution, self.resolved_by, self.resolved_at = OPEN, None, None, None
        self.escalated_at: datetime | None
        self.escalated_by: str | None
        self.escalation_reason: str | None
        self.escalated, self.escalated_at, self.escalated_by, self.escalation_reason = False, None, None, None
        self.threshold_category = threshold_category  # set when the report threshold opened it
        # the service's answer: its remediation plan and date, then that it is done
        self.plan: str | None
        self.plan_due_on: date | None
        self.answered_by: str | None
        self.answered_at: datetime | None
        self.plan, self.plan_due_on, self.answered_by, self.answered_at = None, None, None, None
        self.done_at: datetime | None
        self.done_by: str | None
        self.done_note: str | None
        self.done_at, self.done_by, self.done_note = None, None, None


class Compliance(Aggregate):
    """A service's compliance aggregate: its open violations and the audit decision counter."""

    def __init__(self, service_id: str, known: bool = False, registry_status: str = "unknown") -> None:
        self.service_id, self.known, self.registry_status = service_id, known, registry_status
        self.registry_version = 0
        self.open_violations, self.audit_version = 0, 0
        self.commitments: list[dict[str, Any]] | None = None  # the pact's commitments, from the newest standing heard of

    def follow_registry(
        self, status: str, version: int, commitments: Iterable[Mapping[str, Any]] = (), pact_version: int = 1
    ) -> None:
        """The registry's standing of the service (status, any of them, and the pact's
        commitments), newest version wins (events may come in any order). Any registry event makes
        the service known to audit."""
        self.known = True
        if version > (self.registry_version or 0):
            self.registry_status, self.registry_version = status, version
            self.commitments = [
                {"principle": c["principle"], "text": c.get("text"), "pact_version": pact_version} for c in commitments
            ]

    def commitment(self, principle: str) -> dict[str, Any] | None:
        """The service's commitment to `principle` ({principle, text, pact_version}), or None
        while audit has not heard of it."""
        return next((c for c in self.commitments or () if c["principle"] == principle), None)

    def record(self, finding: Finding) -> None:
        self._record(
            events.FindingRecorded(
                finding_id=finding.id,
                service_id=self.service_id,
                principle=finding.principle,
                severity=finding.severity,
                is_violation=finding.is_violation,
                remediation_deadline=to_wire(finding.remediation_deadline),
            )
        )
        if finding.is_violation:
            self._confirm(finding)

    def escalate(self, finding: Finding, now: datetime) -> bool:
        """A minor finding past its deadline and still open becomes a violation."""
        if (
            finding.status != OPEN
            or finding.is_violation
            or finding.remediation_deadline is None
            or finding.remediation_deadline > now
        ):
            return False
        self._escalate(finding, now, None, "the remediation deadline passed")
        return True

    def escalate_by(self, finding: Finding, reason: str, actor: str, now: datetime) -> None:
        """An auditor makes an open minor finding a violation (the service is suspended)."""
        self._still_open(finding)
        if finding.is_violation:
            raise AlreadyAViolation("the finding is a violation already", {"finding_id": finding.id})
        self._escalate(finding, now, actor, reason)

    def _escalate(self, finding: Finding, now: datetime, actor: str | None, reason: str) -> None:
        finding.is_violation, finding.escalated = True, True
        finding.escalated_at, finding.escalated_by, finding.escalation_reason = now, actor, reason
        self._record(
            events.FindingEscalated(
                finding_id=finding.id, service_id=self.service_id, severity=finding.severity, reason=reason, escalated_by=actor
            )
        )
        self._confirm(finding)

    def answer(self, finding: Finding, plan: str, due_on: date, actor: str, now: datetime) -> None:
        """The service's remediation plan and the date it commits to. A new answer replaces the
        last one (the events keep both), and its remediation is to be reported done again."""
        self._still_open(finding)
        finding.plan, finding.plan_due_on, finding.answered_by, finding.answered_at = plan, due_on, actor, now
        finding.done_at, finding.done_by, finding.done_note = None, None, None
        self._record(
            events.FindingAnswered(
                finding_id=finding.id, service_id=self.service_id, plan=plan, due_on=due_on.isoformat(), answered_by=actor
            )
        )

    def report_done(self, finding: Finding, note: str | None, actor: str, now: datetime) -> None:
        """The service says the remediation it planned is done; an auditor then resolves or escalates."""
        self._still_open(finding)
        if finding.answered_at is None:
            raise NotAnswered("answer the finding with a remediation plan first", {"finding_id": finding.id})
        if finding.done_at is not None:
            raise RemediationAlreadyReported(
                "the remediation was reported done already", {"finding_id": finding.id, "done_at": to_wire(finding.done_at)}
            )
        finding.done_at, finding.done_by, finding.done_note = now, actor, note
        self._record(events.RemediationReported(finding_id=finding.id, service_id=self.service_id, reported_by=actor, note=note))

    @staticmethod
    def _still_open(finding: Finding) -> None:
        if finding.status == RESOLVED:
            raise AlreadyResolved("the finding is already resolved", {"finding_id": finding.id})

    def resolve(self, finding: Finding, resolution: str, actor: str | None, now: datetime) -> None:
        self._still_open(finding)
        finding.status, finding.resolution, finding.resolved_by, finding.resolved_at = (RESOLVED, resolution, actor, now)
        self._record(
            events.FindingResolved(
                finding_id=finding.id, service_id=self.service_id, is_violation=finding.is_violation, resolved_by=actor or ""
            )
        )
        if finding.is_violation:
            self._decide("resolved", finding, -1)

    def _confirm(self, finding: Finding) -> None:
        self._decide("confirmed", finding, +1)

    def _decide(self, change: str, finding: Finding, open_delta: int) -> None:
        """Each decision bumps `audit_version`, so consumers apply only the newest."""
        self.open_violations += open_delta
        self.audit_version += 1
        self._record(
            events.ViolationDecided(
                change=change,
                finding_id=finding.id,
                service_id=self.service_id,
                open_violations=self.open_violations,
                audit_version=self.audit_version,
                principle=finding.principle,
            )
        )


UNKNOWN_SERVICE_WINDOW_SECONDS = 3600


class ParkedFact:
    """A violation or report about a service audit has not heard of yet. The registry is the
    source of truth and its events may come after the fact (they travel another way), so the
    fact waits, untouched, and is applied as soon as the service's registration arrives. Only if
    the window passes without it is the fact refused (dead-lettered `unknown_service`)."""

    def __init__(self, event_id: str, service_id: str, event_type: str, queue: str, body: Any, parked_at: datetime) -> None:
        self.event_id, self.service_id, self.event_type = event_id, service_id, event_type
        self.queue, self.body, self.parked_at = queue, body, parked_at

    def expired(self, now: datetime, window_seconds: float = UNKNOWN_SERVICE_WINDOW_SECONDS) -> bool:
        return (now - self.parked_at).total_seconds() >= window_seconds
