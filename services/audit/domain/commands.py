"""What staff and inbound systems ask of audit."""
from dataclasses import dataclass


@dataclass
class RecordFinding:
    service_id: str
    principle: str
    severity: str
    summary: str
    reported_by: str
    evidence_url: str | None = None
    source_event_id: str | None = None


@dataclass
class ResolveFinding:
    finding_id: str
    resolution: str
    actor: str
