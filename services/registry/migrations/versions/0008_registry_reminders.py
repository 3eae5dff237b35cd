"""reminders: each deadline's reminder sent once, ever (shared/sql/reminders.py), and e-mailed to the service's contact

Revision ID: 0008_registry
Revises: 0007_registry
"""

from alembic import op

from spc.shared.sql import reminders

revision = "0008_registry"
down_revision = "0007_registry"
branch_labels = None
depends_on = None


def upgrade():
    reminders.create_table_v1(op)
    _mail_outbox()


def downgrade():
    op.drop_table("mail_outbox")
    op.drop_table("reminders_sent")


def _mail_outbox():
    import sqlalchemy as sa

    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reminder_id", sa.String(120), nullable=False, unique=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_mail_outbox_service_id", "mail_outbox", ["service_id"])
    op.create_index("ix_mail_outbox_sent_at", "mail_outbox", ["sent_at"])
