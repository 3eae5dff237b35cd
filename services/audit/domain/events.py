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
    and the service's `audit_version`, which grows with each decision."""
    family = "audit.violation_"
    change: str
    finding_id: str
    service_id: str
    open_violations: int
    audit_version: int
