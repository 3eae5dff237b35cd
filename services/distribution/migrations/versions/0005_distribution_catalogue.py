"""what a counter's catalogue shows (issue 12): the counters' type, e-mail, phone, hours and remark
from the ANCT directory (counter.upserted 1.1); each service's mission, domains, contact, referral
and commitments from its standing; and relayed_reports, the record of reports relayed by agents

Revision ID: 0005_distribution
Revises: 0004_distribution

Every new column is nullable: unknown until the next counter.upserted or standing carries it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_distribution"
down_revision = "0004_distribution"
branch_labels = None
depends_on = None

COUNTER_COLUMNS = (
    ("type", sa.String(16)),
    ("email", sa.String(200)),
    ("phone", sa.String(30)),
    ("hours", sa.JSON()),
    ("note", sa.String(500)),
)
SERVICE_COLUMNS = (
    ("mission", sa.Text()),
    ("domains", sa.JSON()),
    ("contact_email", sa.String(320)),
    ("referral", sa.Text()),
    ("commitments", sa.JSON()),
)


def upgrade():
    with op.batch_alter_table("counters") as batch:
        for name, kind in COUNTER_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("services") as batch:
        for name, kind in SERVICE_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table(
        "relayed_reports",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("counter_id", sa.String(64), nullable=False),
        sa.Column("relayed_by", sa.String(200), nullable=False),
        sa.Column("relayed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_relayed_reports_counter_id", "relayed_reports", ["counter_id"])


def downgrade():
    op.drop_index("ix_relayed_reports_counter_id", table_name="relayed_reports")
    op.drop_table("relayed_reports")
    with op.batch_alter_table("services") as batch:
        for name, _ in reversed(SERVICE_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("counters") as batch:
        for name, _ in reversed(COUNTER_COLUMNS):
            batch.drop_column(name)
