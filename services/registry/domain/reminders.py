"""The registry's deadlines: the end of each pact's term (reminded 90 and 30 days before), and a
pilot's evaluation (reminded within SPC_REMINDER_DAYS): shared/sql/reminders.py."""

from datetime import date
from typing import Any, Mapping

from spc.shared.core.french import date_fr
from spc.shared.core.deadlines import Deadline

FOLLOWED = ("active", "suspended")  # a revoked or expired service has no deadline left


def pact_deadlines(service_id: str, status: str, term: Mapping[str, Any] | None) -> list[Deadline]:
    """`term`: the pact's {starts_on, ends_on, pilot, evaluation_on} (ISO dates), or None."""
    if status not in FOLLOWED or not term:
        return []
    out: list[Deadline] = []
    if term.get("ends_on"):
        ends = date.fromisoformat(term["ends_on"])
        out.append(
            Deadline(
                "term_end", service_id, service_id, ends, f"Fin du pacte le {date_fr(ends)} : son renouvellement est à préparer"
            )
        )
    if term.get("pilot") and term.get("evaluation_on"):
        when = date.fromisoformat(term["evaluation_on"])
        out.append(
            Deadline(
                "pilot_evaluation", service_id, service_id, when, f"Évaluation de l'expérimentation prévue le {date_fr(when)}"
            )
        )
    return out
