"""the journal is chained in batches from a table of received events; facts about a service not
yet known are parked until the registry's event arrives

Revision ID: 0003_audit
Revises: 0002_audit
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_audit"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "journal_pending",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "parked_facts",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_parked_facts_service_id", "parked_facts", ["service_id"])
    op.create_index("ix_parked_facts_parked_at", "parked_facts", ["parked_at"])


def downgrade():
    op.drop_table("parked_facts")
    op.drop_table("journal_pending")
