"""Deadlines and when each is reminded: pure rules (dates in, reminders out), no SQL. The
services' domains say which deadlines they hold (`services/*/domain/reminders.py`: `Deadline`s);
`shared/sql/reminders.py` writes the reminders as events, once each, and lists the agenda.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Optional, Union

# When a deadline of each kind is reminded: (kind of reminder, lowest and highest days left).
# `notice` stands for SPC_REMINDER_DAYS (14 by default).
# (kind, lowest days left or None: no bound, highest days left or "notice")
RULES: dict[str, tuple[tuple[str, Optional[int], Union[int, str]], ...]] = {
    "milestone": (("milestone_overdue", None, -1), ("milestone_due", 0, "notice")),
    "term_end": (("term_ending_30", 0, 30), ("term_ending_90", 31, 90)),
    "pilot_evaluation": (("evaluation_due", None, "notice"),),
    "remediation": (("remediation_overdue", None, -1), ("remediation_due", 0, 7)),
}
REMINDER_KINDS = tuple(kind for rules in RULES.values() for kind, _, _ in rules)


def reminder_kind(deadline: "Deadline", today: date, notice_days: int) -> Optional[str]:
    """The reminder `deadline` calls for today, or None (too far ahead)."""
    left = deadline.days_left(today)
    for kind, low, high in RULES[deadline.kind]:
        highest = notice_days if isinstance(high, str) else high  # the one string: "notice"
        if (low is None or left >= low) and left <= highest:
            return kind
    return None


def due_reminders(deadlines: Iterable["Deadline"], today: date, notice_days: int) -> list[tuple[str, str, "Deadline"]]:
    """[(reminder key, kind, deadline)] for what `today` calls for."""
    out = []
    for deadline in deadlines:
        kind = reminder_kind(deadline, today, notice_days)
        if kind is not None:
            raw = f"{kind}:{deadline.subject_id}:{deadline.due_on.isoformat()}"
            key = raw if len(raw) <= 120 else hashlib.sha256(raw.encode()).hexdigest()
            out.append((key, kind, deadline))
    return out


def reminder_payload(key: str, kind: str, deadline: "Deadline", today: date) -> dict[str, Any]:
    return {
        "reminder_id": key,
        "kind": kind,
        "deadline": deadline.kind,
        "service_id": deadline.service_id,
        "subject_id": deadline.subject_id,
        "due_on": deadline.due_on.isoformat(),
        "days_left": deadline.days_left(today),
        "title": deadline.title,
    }


@dataclass(frozen=True)
class Deadline:
    """One dated obligation of a service: `kind` (what, in the catalogue's words), `subject_id`
    (the tranche, the service's pact, the finding), `due_on`; `title` says it in French, for the
    agenda and the e-mail to the service."""

    kind: str
    service_id: str
    subject_id: str
    due_on: date
    title: str

    def days_left(self, today: date) -> int:
        return (self.due_on - today).days

    def view(self, today: date) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "service_id": self.service_id,
            "subject_id": self.subject_id,
            "due_on": self.due_on.isoformat(),
            "days_left": self.days_left(today),
            "title": self.title,
        }


HORIZON_DAYS = 90  # the farthest threshold of any rule (a term's 90 days)
