"""The staff tables, every service's (like the outbox): `staff_actions`, who did what through the
admin API (the token's role and label, when, the request's correlation id), which the resources
show as their `history`; and `idempotency_keys`, a staff request's key with its answer.

Each service's unit of work holds them as two repositories, `staff_log` and `idempotency_keys`
(services/*/repository.py); shared/web/edge.py writes them in the transaction of the change itself,
and the use cases read `staff_log.history`."""

import json

from marshmallow import Schema, fields
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, insert, select, update

from ..core.answers import Moment
from ..core.clock import to_db, utcnow

# the payload fields that name what an event is about: its history is looked up by these ids
SUBJECT_FIELDS = (
    "service_id",
    "programme_id",
    "grant_id",
    "tranche_id",
    "finding_id",
    "amendment_id",
    "approval_id",
    "target_id",
)


def define_staff_tables(metadata: MetaData):
    actions = Table(
        "staff_actions",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("subject_id", String(64), nullable=False),
        Column("action", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("correlation_id", String(100), nullable=True),
        Column("at", DateTime, nullable=False),
        Index("ix_staff_actions_subject", "subject_id", "id"),
    )
    keys = Table(
        "idempotency_keys",
        metadata,
        Column("actor", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=True),  # null: committed, answer not yet kept
        Column("answer", Text, nullable=True),
        Column("created_at", DateTime, nullable=False),
    )
    return actions, keys


class ActionOut(Schema):
    """One staff action on a resource, as its `history` shows it."""

    action = fields.String(required=True, metadata={"description": "the event it caused (asyncapi.yaml)"})
    by = fields.String(required=True, attribute="actor", metadata={"description": "the admin token's `role/label`"})
    at = Moment(required=True)
    correlation_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the request's X-Correlation-Id: the same in every event it caused"},
    )
    event_id = fields.String(required=True, metadata={"description": "the event, in the audit journal"})


def subjects(payload):
    return list(dict.fromkeys(payload[f] for f in SUBJECT_FIELDS if isinstance(payload.get(f), str)))


class StaffLog:
    """`staff_actions` in the caller's transaction."""

    def __init__(self, session, table):
        self.session, self.table = session, table

    def add_many(self, events):
        """Log the attributed events (their `actor`), a row for each subject they name; one statement."""
        rows = [
            dict(
                subject_id=s,
                action=event.event_type,
                event_id=str(event.event_id),
                actor=event.actor,
                correlation_id=event.correlation_id,
                at=to_db(event.occurred_at),
            )
            for event in events
            if event.actor
            for s in subjects(event.payload)
        ]
        if rows:
            self.session.execute(insert(self.table), rows)

    def history(self, subject_ids):
        """{subject id: [action, ...]} oldest first (rows: `action`, `actor`, `at`, `correlation_id`,
        `event_id`; an answer dumps them with ActionOut)."""
        out = {s: [] for s in subject_ids}
        if subject_ids:
            t = self.table
            for r in self.session.execute(select(t).where(t.c.subject_id.in_(list(subject_ids))).order_by(t.c.id)):
                out[r.subject_id].append(r)
        return out


def attach_staff_tables(uow, session):
    """Give a service's unit of work its staff tables' repositories (`staff_log`,
    `idempotency_keys`), which shared/web/edge.py writes and answers read (a history)."""
    uow.staff_log = StaffLog(session, uow.orm.staff_actions)
    uow.idempotency_keys = IdempotencyKeys(session, uow.orm.idempotency_keys)


class IdempotencyKeys:
    """`idempotency_keys` in the caller's transaction: the key is claimed in the transaction of
    the change (a copy committing at the same time fails), its answer kept before it commits."""

    def __init__(self, session, table):
        self.session, self.table = session, table

    def claim(self, actor, idem):
        self.session.execute(
            insert(self.table).values(actor=actor, key=idem.key, fingerprint=idem.fingerprint, created_at=utcnow())
        )

    def find(self, actor, key):
        t = self.table
        return self.session.execute(
            select(t.c.fingerprint, t.c.status, t.c.answer).where(t.c.actor == actor, t.c.key == key)
        ).first()

    def keep_answer(self, actor, key, status, answer):
        t = self.table
        return self.session.execute(
            update(t).where(t.c.actor == actor, t.c.key == key).values(status=status, answer=json.dumps(answer, default=str))
        ).rowcount


def create_tables_v1(op):
    """The migration that adds both tables, the same in every service (alembic `op`). Frozen:
    a later change to the tables is a new migration, not an edit here."""
    import sqlalchemy as sa

    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_staff_actions_subject", "staff_actions", ["subject_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def drop_tables_v1(op):
    op.drop_table("idempotency_keys")
    op.drop_index("ix_staff_actions_subject", table_name="staff_actions")
    op.drop_table("staff_actions")
