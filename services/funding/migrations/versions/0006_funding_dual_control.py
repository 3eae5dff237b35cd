"""two people for money: requests waiting for a second person's approval, and who approved a release

Revision ID: 0006_funding
Revises: 0005_funding

Tranches released before this version keep `approved_by` null (one person released them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_funding"
down_revision = "0005_funding"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tranches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.String(300), nullable=True))
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("programme_id", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.String(500), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(300), nullable=False),
        sa.Column("requester", sa.String(300), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_approval_requests_target_id", "approval_requests", ["target_id"])
    op.create_index("ix_approval_requests_service_id", "approval_requests", ["service_id"])
    op.create_index("ix_approval_requests_status", "approval_requests", ["status"])
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ux_approval_requests_pending_target",
        "approval_requests",
        ["target_id"],
        unique=True,
        sqlite_where=pending,
        postgresql_where=pending,
    )


def downgrade():
    op.drop_table("approval_requests")
    with op.batch_alter_table("tranches", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
