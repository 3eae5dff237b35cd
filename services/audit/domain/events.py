"""Events audit records."""
from dataclasses import dataclass
from typing import ClassVar


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
class ViolationConfirmed:
    event_type: ClassVar[str] = "audit.violation_confirmed"
    finding_id: str
    service_id: str
    open_violations: int
    audit_version: int


@dataclass
class ViolationResolved:
    event_type: ClassVar[str] = "audit.violation_resolved"
    finding_id: str
    service_id: str
    open_violations: int
    audit_version: int
