"""Deadlines SPC knows, said before they pass: reminders as events, and each service's agenda.

Each service that holds deadlines says which are near from its own data (its domain's
`reminders.py`, pure: dates in, `Deadline`s out). A deadline becomes one `<service>.reminder_due`
event at each threshold it crosses (a milestone due within N days, then overdue; a pact's term
in 90 days, then in 30...). Once each, ever, across replicas and restarts: the reminder's key
(kind, subject, date) is inserted in `reminders_sent` in the transaction that writes its event
to the outbox, `ON CONFLICT DO NOTHING`; a replica that computed the same reminder at the same
moment inserts nothing and writes no event.

The same deadlines, listed rather than announced, are the agenda (`GET /agenda?within=30d`,
`GET /services/{id}/agenda`)."""

import re
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Column, Date, DateTime, Index, MetaData, String, Table

from ..core.clock import utcnow
from ..core.deadlines import HORIZON_DAYS, RULES, due_reminders, reminder_payload
from ..core.lists import ListShape, whole

DEFAULT_WITHIN_DAYS = 30
MAX_WITHIN_DAYS = 999
_WITHIN = re.compile(r"^([0-9]{1,3})d?$")


def define_reminder_table(metadata: MetaData):
    return Table(
        "reminders_sent",
        metadata,
        Column("key", String(120), primary_key=True),
        Column("kind", String(40), nullable=False),
        Column("service_id", String(64), nullable=False),
        Column("subject_id", String(64), nullable=False),
        Column("due_on", Date, nullable=False),
        Column("event_id", String(36), nullable=True),
        Column("sent_at", DateTime, nullable=False),
        Index("ix_reminders_sent_service", "service_id"),
    )


def create_table_v1(op):
    """The migration of a service that starts sending reminders."""
    import sqlalchemy as sa

    op.create_table(
        "reminders_sent",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_reminders_sent_service", "reminders_sent", ["service_id"])


def within_days(value):
    """`30d` or `30`: days; refuses anything else (a ValidationError names the rule)."""
    found = _WITHIN.match(value.strip()) if isinstance(value, str) else None
    if not found or not 0 <= int(found.group(1)) <= MAX_WITHIN_DAYS:
        raise ValidationError(f"a number of days from 0 to {MAX_WITHIN_DAYS}, like 30d")
    return int(found.group(1))


class Within(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return within_days(super()._deserialize(value, attr, data, **kwargs))


class AgendaQuery(Schema):
    within = Within(
        load_default=DEFAULT_WITHIN_DAYS,
        metadata={
            "pattern": r"^[0-9]{1,3}d?$",
            "description": "how far ahead, in days (`30d` or `30`; 999 at most); what is overdue is always listed",
        },
    )


class DeadlineOut(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(sorted(RULES)),
        metadata={
            "description": "what falls due: a tranche's `milestone`, the pact's `term_end`, a pilot's "
            "`pilot_evaluation`, a finding's `remediation` deadline"
        },
    )
    service_id = fields.String(required=True)
    subject_id = fields.String(required=True, metadata={"description": "the tranche, the service (its pact) or the finding"})
    due_on = fields.Date(required=True)
    days_left = fields.Integer(required=True, metadata={"description": "negative: overdue by that many days"})
    title = fields.String(required=True, metadata={"description": "what it is, in French, as the e-mail says it"})


class AgendaOut(ListShape):
    items = fields.List(
        fields.Nested(DeadlineOut), required=True, metadata={"description": "soonest first; what is overdue first of all"}
    )


def agenda(deadlines, today, within):
    """The deadlines due within `within` days, and every overdue one, soonest first."""
    return sorted(
        (d.view(today) for d in deadlines if d.days_left(today) <= within),
        key=lambda v: (v["due_on"], v["kind"], v["subject_id"]),
    )


def record_due(uow, table, deadlines, today, notice_days, event_type):
    """In the caller's transaction: the reminders `today` calls for that were never sent, each
    written to the outbox as one `event_type` event and remembered in `table` (reminders_sent);
    returns the events. A replica doing the same at the same moment writes none of them: the
    keys are inserted `ON CONFLICT DO NOTHING`, and only the rows this one inserted make events."""
    from ..core.envelope import new_event
    from .bulk import insert_new

    events, rows = {}, []
    for key, kind, deadline in due_reminders(deadlines, today, notice_days):
        event = new_event(event_type, reminder_payload(key, kind, deadline, today), uow.producer)
        events[key] = event
        rows.append(
            {
                "key": key,
                "kind": kind,
                "service_id": deadline.service_id,
                "subject_id": deadline.subject_id,
                "due_on": deadline.due_on,
                "event_id": str(event.event_id),
                "sent_at": utcnow(),
            }
        )
    inserted = insert_new(uow.session, table, rows, "key")
    written = [events[key] for key in events if key in inserted]
    uow.outbox.add_many(written)
    return written


def agenda_answer(uow, deadlines_of, within, service_id=None, today=None):
    """GET /agenda: `deadlines_of(uow, until, service_id)` is the service's own (its handlers')."""
    today = today or utcnow().date()
    with uow:
        return whole(agenda(deadlines_of(uow, today + timedelta(days=within), service_id), today, within))


def send_due(uow, deadlines_of, event_type, table, notice_days, today=None):
    """The periodic check: what today calls for and was never said, said now. Returns how many."""
    today = today or utcnow().date()
    with uow:
        until = today + timedelta(days=max(notice_days, HORIZON_DAYS))
        written = record_due(uow, table, deadlines_of(uow, until, None), today, notice_days, event_type)
        uow.commit()
        return len(written)
