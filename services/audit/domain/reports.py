"""Citizen reports and their triage (pure Python).

A report is kept for an auditor, who dismisses it with a reason or turns it (with others) into a
finding. Enough reports of one category about one service within a window open a `minor` finding
by themselves, once per window: never a violation. The report's text is personal data: it is in
no event, no log line and no repr, and it is purged (set to null) after the retention period.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from spc.shared.core.domain import Aggregate

from ..exceptions import ReportAlreadyTriaged
from . import events

NEW, DISMISSED, IN_FINDING = "new", "dismissed", "finding"
REPORT_STATUSES = (NEW, DISMISSED, IN_FINDING)
THRESHOLD_ACTOR = "audit/report-threshold"
# the principle a category of reports is about, for the finding the threshold opens; `other` has
# none, so such reports are left to the auditor
CATEGORY_PRINCIPLES = {
    "unavailable": "continuity",
    "refused_access": "equality",
    "advertising": "no_ad_monetisation",
    "data_misuse": "data_protection",
}


@dataclass(frozen=True)
class ReportPolicy:
    """`threshold` reports of one category about one service within `window_days` open a minor
    finding; texts are purged `retention_days` after the report was received."""

    threshold: int = 5
    window_days: int = 30
    retention_days: int = 365

    def __post_init__(self) -> None:
        for name in ("threshold", "window_days", "retention_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"the report policy's {name} must be at least 1 (got {getattr(self, name)})")

    def window_start(self, now: datetime) -> datetime:
        return now - timedelta(days=self.window_days)

    def retention_cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.retention_days)

    def threshold_summary(self, count: int, category: str) -> str:
        return (
            f"{count} citizen reports of category '{category}' within {self.window_days} days "
            "(opened by the report threshold; the reports are linked)"
        )


class CitizenReport(Aggregate):
    """A citizen's report, kept for an auditor's triage; it never suspends a service by itself."""

    def __init__(
        self,
        id: str,
        service_id: str,
        category: str,
        text: str | None,
        created_at: datetime,
        counter_id: str | None = None,
        source_event_id: str | None = None,
    ) -> None:
        self.id, self.service_id, self.category, self.text = id, service_id, category, text
        self.counter_id, self.created_at, self.source_event_id = counter_id, created_at, source_event_id
        self.finding_id: str | None
        self.dismissal_reason: str | None
        self.status, self.finding_id, self.dismissal_reason = NEW, None, None
        self.triaged_by: str | None
        self.triaged_at: datetime | None
        self.purged_at: datetime | None
        self.triaged_by, self.triaged_at, self.purged_at = None, None, None

    def __repr__(self) -> str:  # never the text: personal data
        return f"<CitizenReport {self.id} {self.service_id} {self.category} {self.status}>"

    def dismiss(self, reason: str, actor: str, now: datetime) -> None:
        self._triage(DISMISSED, actor, now, reason=reason)

    def link(self, finding_id: str, actor: str, now: datetime) -> None:
        """The report is part of a finding (which lists it)."""
        self._triage(IN_FINDING, actor, now, finding_id=finding_id)

    def purge(self, now: datetime) -> None:
        """The text goes; what the report was about stays."""
        self.text, self.purged_at = None, now

    def _triage(self, outcome: str, actor: str, now: datetime, reason: str | None = None, finding_id: str | None = None) -> None:
        if self.status != NEW:
            raise ReportAlreadyTriaged(
                f"report {self.id} was triaged already ({self.status})",
                {"report_id": self.id, "status": self.status, "finding_id": self.finding_id},
            )
        self.status, self.triaged_by, self.triaged_at = outcome, actor, now
        self.dismissal_reason, self.finding_id = reason, finding_id
        self._record(
            events.ReportTriaged(
                report_id=self.id,
                service_id=self.service_id,
                category=self.category,
                outcome=outcome,
                finding_id=self.finding_id,
                counter_id=self.counter_id,
                report_event_id=self.source_event_id,
            )
        )
