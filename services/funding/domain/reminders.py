"""Funding's deadlines: each scheduled tranche's milestone, whose evidence is due by its due date
(a reminder within SPC_REMINDER_DAYS, another once overdue: shared/sql/reminders.py)."""

from typing import Iterable

from spc.shared.core.french import euros
from spc.shared.core.deadlines import Deadline

from .model import SCHEDULED, Tranche


def milestones(tranches: Iterable[Tranche]) -> list[Deadline]:
    """A deadline per scheduled tranche (released, frozen or cancelled ones wait for nothing)."""
    return [
        Deadline(
            "milestone",
            t.service_id,
            t.id,
            t.due_date,
            f"Jalon « {t.milestone or 'sans intitulé'} » : pièces attendues pour le versement de {euros(t.amount_cents)}",
        )
        for t in tranches
        if t.status == SCHEDULED
    ]
