"""Audit's deadlines: each open finding's remediation deadline (reminded 7 days before, and once
passed): shared/sql/reminders.py."""

from typing import Iterable

from spc.shared.core.french import PRINCIPLES_FR, date_fr
from spc.shared.core.deadlines import Deadline

from .model import OPEN, Finding


def remediations(findings: Iterable[Finding]) -> list[Deadline]:
    return [
        Deadline(
            "remediation",
            f.service_id,
            f.id,
            f.remediation_deadline.date(),
            f"Constat « {PRINCIPLES_FR.get(f.principle, f.principle)} » : remédiation attendue le "
            f"{date_fr(f.remediation_deadline.date())}",
        )
        for f in findings
        if f.status == OPEN and f.remediation_deadline is not None
    ]
