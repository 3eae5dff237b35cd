"""Findings and each service's compliance standing.

`major` and `critical` findings are violations: they are confirmed at once, with no human step.
A `minor` finding opens with a remediation deadline (30 days by default); unresolved at the
deadline it escalates to a violation. Each decision bumps the service's `audit_version`.
"""
from datetime import timedelta

from spc.shared.clock import to_wire
from spc.shared.domain import Aggregate

from ..exceptions import AlreadyResolved
from . import events

VIOLATION_SEVERITIES = ("major", "critical")
REMEDIATION_DAYS = 30
OPEN, RESOLVED = "open", "resolved"


class Finding:
    def __init__(self, id, service_id, principle, severity, summary, reported_by, created_at,
                 evidence_url=None, source_event_id=None, remediation_days=REMEDIATION_DAYS):
        self.id, self.service_id = id, service_id
        self.principle, self.severity, self.summary = principle, severity, summary
        self.reported_by, self.evidence_url, self.source_event_id = reported_by, evidence_url, source_event_id
        self.created_at = created_at
        self.is_violation = severity in VIOLATION_SEVERITIES
        self.remediation_deadline = None if self.is_violation else created_at + timedelta(days=remediation_days)
        self.status, self.resolution, self.resolved_by, self.resolved_at = OPEN, None, None, None
        self.escalated = False


class Compliance(Aggregate):
    """A service's compliance aggregate: its open violations and the audit decision counter."""

    def __init__(self, service_id, known=False, registry_status="unknown"):
        self.service_id, self.known, self.registry_status = service_id, known, registry_status
        self.registry_version = 0
        self.open_violations, self.audit_version = 0, 0
        self.commitments = None  # the pact's commitments, from the newest standing heard of

    def follow_registry(self, status, version, commitments=(), pact_version=1):
        """The registry's standing of the service (status, any of them, and the pact's
        commitments), newest version wins (events may come in any order). Any registry event makes
        the service known to audit."""
        self.known = True
        if version > (self.registry_version or 0):
            self.registry_status, self.registry_version = status, version
            self.commitments = [{"principle": c["principle"], "text": c.get("text"),
                                 "pact_version": pact_version} for c in commitments]

    def commitment(self, principle):
        """The service's commitment to `principle` ({principle, text, pact_version}), or None
        while audit has not heard of it."""
        return next((c for c in self.commitments or () if c["principle"] == principle), None)

    def record(self, finding: Finding):
        self._record(events.FindingRecorded(finding.id, self.service_id, finding.principle,
                                            finding.severity, finding.is_violation,
                                            to_wire(finding.remediation_deadline)))
        if finding.is_violation:
            self._confirm(finding)

    def escalate(self, finding: Finding, now):
        """A minor finding past its deadline and still open becomes a violation."""
        if finding.status != OPEN or finding.is_violation or finding.remediation_deadline > now:
            return False
        finding.is_violation, finding.escalated = True, True
        self._confirm(finding)
        return True

    def resolve(self, finding: Finding, resolution, actor, now):
        if finding.status == RESOLVED:
            raise AlreadyResolved("the finding is already resolved", {"finding_id": finding.id})
        finding.status, finding.resolution, finding.resolved_by, finding.resolved_at = (
            RESOLVED, resolution, actor, now)
        self._record(events.FindingResolved(finding.id, self.service_id, finding.is_violation, actor or ""))
        if finding.is_violation:
            self._decide("resolved", finding, -1)

    def _confirm(self, finding):
        self._decide("confirmed", finding, +1)

    def _decide(self, change, finding, open_delta):
        """Each decision bumps `audit_version`, so consumers apply only the newest."""
        self.open_violations += open_delta
        self.audit_version += 1
        self._record(events.ViolationDecided(change, finding.id, self.service_id, self.open_violations,
                                             self.audit_version))


class CitizenReport:
    """A citizen's report, kept for an auditor's triage; it never suspends a service by itself."""

    def __init__(self, id, service_id, category, text, created_at, counter_id=None, source_event_id=None):
        self.id, self.service_id, self.category, self.text = id, service_id, category, text
        self.counter_id, self.created_at, self.source_event_id = counter_id, created_at, source_event_id
        self.status = "new"


UNKNOWN_SERVICE_WINDOW_SECONDS = 3600


class ParkedFact:
    """A violation or report about a service audit has not heard of yet. The registry is the
    source of truth and its events may come after the fact (they travel another way), so the
    fact waits, untouched, and is applied as soon as the service's registration arrives. Only if
    the window passes without it is the fact refused (dead-lettered `unknown_service`)."""

    def __init__(self, event_id, service_id, event_type, queue, body, parked_at):
        self.event_id, self.service_id, self.event_type = event_id, service_id, event_type
        self.queue, self.body, self.parked_at = queue, body, parked_at

    def expired(self, now, window_seconds=UNKNOWN_SERVICE_WINDOW_SECONDS):
        return (now - self.parked_at).total_seconds() >= window_seconds
