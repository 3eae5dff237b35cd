"""citizen reports triaged (dismissed, or part of a finding) and their texts purgeable; a finding
answered by its service (plan, date, done) and escalated by an auditor; the pact versions audit
has heard of; the journal says which service each entry concerns (for the dossier)

Revision ID: 0006_audit
Revises: 0005_audit

The journal's new `service_id` is filled from the bodies already chained (outside the hash, so
the chain is unchanged).
"""

import json

from alembic import op
import sqlalchemy as sa


revision = "0006_audit"
down_revision = "0005_audit"
branch_labels = None
depends_on = None

FINDING_COLUMNS = [
    ("escalated_at", sa.DateTime()),
    ("escalated_by", sa.String(300)),
    ("escalation_reason", sa.Text()),
    ("threshold_category", sa.String(30)),
    ("plan", sa.Text()),
    ("plan_due_on", sa.Date()),
    ("answered_by", sa.String(300)),
    ("answered_at", sa.DateTime()),
    ("done_at", sa.DateTime()),
    ("done_by", sa.String(300)),
    ("done_note", sa.Text()),
]
REPORT_COLUMNS = [
    ("finding_id", sa.String(64)),
    ("dismissal_reason", sa.Text()),
    ("triaged_by", sa.String(300)),
    ("triaged_at", sa.DateTime()),
    ("purged_at", sa.DateTime()),
]


def upgrade():
    with op.batch_alter_table("findings") as batch:
        for name, type_ in FINDING_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("reports") as batch:
        for name, type_ in REPORT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.alter_column("text", existing_type=sa.Text(), nullable=True)
    op.create_index("ix_reports_finding_id", "reports", ["finding_id"])
    op.create_index("ix_reports_counter_id", "reports", ["counter_id"])
    op.create_index("ix_reports_created_at", "reports", ["created_at"])
    op.create_index("ix_reports_status_created_at", "reports", ["status", "created_at"])
    op.create_table(
        "pact_versions",
        sa.Column("service_id", sa.String(64), primary_key=True),
        sa.Column("pact_version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("commitments", sa.JSON(), nullable=False),
        sa.Column("registry_version", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
    )
    for table in ("journal", "journal_pending"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("service_id", sa.String(64), nullable=True))
    op.create_index("ix_journal_service_id_seq", "journal", ["service_id", "seq"])
    _fill_service_ids("journal", "seq")
    _fill_service_ids("journal_pending", "id")


def _fill_service_ids(name, key, batch=1000):
    conn = op.get_bind()
    table = sa.table(name, sa.column(key), sa.column("body"), sa.column("service_id"))
    last = None
    while True:
        query = sa.select(table.c[key], table.c.body).order_by(table.c[key]).limit(batch)
        rows = conn.execute(query if last is None else query.where(table.c[key] > last)).all()
        for row_key, body in rows:
            service_id = (json.loads(body).get("payload") or {}).get("service_id")
            if isinstance(service_id, str):
                conn.execute(sa.update(table).where(table.c[key] == row_key).values(service_id=service_id[:64]))
        if len(rows) < batch:
            return
        last = rows[-1][0]


def downgrade():
    op.drop_index("ix_journal_service_id_seq", "journal")
    for table in ("journal_pending", "journal"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("service_id")
    op.drop_table("pact_versions")
    for index in ("ix_reports_status_created_at", "ix_reports_created_at", "ix_reports_counter_id", "ix_reports_finding_id"):
        op.drop_index(index, "reports")
    op.execute("UPDATE reports SET text = '' WHERE text IS NULL")  # purged texts stay gone
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("text", existing_type=sa.Text(), nullable=False)
        for name, _ in reversed(REPORT_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("findings") as batch:
        for name, _ in reversed(FINDING_COLUMNS):
            batch.drop_column(name)
