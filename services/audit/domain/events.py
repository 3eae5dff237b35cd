"""Events audit records."""
from dataclasses import dataclass
from typing import ClassVar

from spc.shared.domain import Change


@dataclass
class FindingRecorded:
    event_type: ClassVar[str] = "audit.finding_recorded"
    finding_id: str
    service_id: str
    principle: str
    severity: str
    is_violation: bool
    remediation_deadline: str | None = None


@dataclass
class FindingResolved:
    event_type: ClassVar[str] = "audit.finding_resolved"
    finding_id: str
    service_id: str
    is_violation: bool
    resolved_by: str


@dataclass
class ViolationDecided(Change):
    """`audit.violation_<change>` (confirmed, resolved): `open_violations` after this decision,
    the service's `audit_version`, which grows with each decision, and the finding's principle."""
    family = "audit.violation_"
    change: str
    finding_id: str
    service_id: str
    open_violations: int
    audit_version: int
    principle: str | None = None


@dataclass
class FindingEscalated:
    """A minor finding became a violation: at its deadline (`escalated_by` null) or by an auditor."""
    event_type: ClassVar[str] = "audit.finding_escalated"
    finding_id: str
    service_id: str
    severity: str
    reason: str
    escalated_by: str | None = None


@dataclass
class FindingAnswered:
    """The service's remediation plan for a finding and the date it commits to."""
    event_type: ClassVar[str] = "audit.finding_answered"
    finding_id: str
    service_id: str
    plan: str
    due_on: str
    answered_by: str


@dataclass
class RemediationReported:
    """The service says its remediation is done; an auditor resolves or escalates."""
    event_type: ClassVar[str] = "audit.remediation_reported"
    finding_id: str
    service_id: str
    reported_by: str
    note: str | None = None


@dataclass
class ReportTriaged:
    """A citizen report was dismissed or made part of a finding (never its text)."""
    event_type: ClassVar[str] = "audit.report_triaged"
    report_id: str
    service_id: str
    category: str
    outcome: str
    finding_id: str | None = None
    counter_id: str | None = None
    report_event_id: str | None = None


@dataclass
class JournalCheckpoint:
    """The journal's chain head as it stands: entry `seq` has hash `hash` (published so that
    others can hold it and check an export of the journal against it later)."""
    event_type: ClassVar[str] = "audit.journal_checkpoint"
    seq: int
    hash: str
    at: str
