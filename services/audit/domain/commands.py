"""What staff, the services and inbound systems ask of audit."""

from dataclasses import dataclass
from datetime import date


@dataclass
class RecordFinding:
    service_id: str
    principle: str
    severity: str
    summary: str
    reported_by: str
    evidence_url: str | None = None
    source_event_id: str | None = None
    report_ids: tuple[str, ...] = ()  # citizen reports the finding is made of (linked both ways)


@dataclass
class ResolveFinding:
    finding_id: str
    resolution: str
    actor: str


@dataclass
class EscalateFinding:
    finding_id: str
    reason: str
    actor: str


@dataclass
class AnswerFinding:
    """The service's remediation plan, on its own finding (`service_id` from the path)."""

    service_id: str
    finding_id: str
    plan: str
    due_on: date
    actor: str


@dataclass
class ReportRemediationDone:
    service_id: str
    finding_id: str
    actor: str
    note: str | None = None


@dataclass
class DismissReport:
    report_id: str
    reason: str
    actor: str


@dataclass
class ReportFilter:
    """`GET /reports`: every field optional; `since`/`until` are dates, both included."""

    service_id: str | None = None
    category: str | None = None
    status: str | None = None
    counter_id: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 50
    offset: int = 0
