"""Events audit records: declared once, with their wire form, in the public contract
(shared/core/events/outbound.py); built by keyword."""

from spc.shared.core.events.outbound import (
    FindingAnswered,
    FindingEscalated,
    FindingRecorded,
    FindingResolved,
    JournalCheckpoint,
    RemediationReported,
    ReportTriaged,
    ViolationDecided,
)

__all__ = [
    "FindingAnswered",
    "FindingEscalated",
    "FindingRecorded",
    "FindingResolved",
    "JournalCheckpoint",
    "RemediationReported",
    "ReportTriaged",
    "ViolationDecided",
]
