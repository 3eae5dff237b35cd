"""reminders: each deadline's reminder sent once, ever (shared/sql/reminders.py)

Revision ID: 0009_audit
Revises: 0008_audit
"""

from alembic import op

from spc.shared.sql import reminders

revision = "0009_audit"
down_revision = "0008_audit"
branch_labels = None
depends_on = None


def upgrade():
    reminders.create_table_v1(op)


def downgrade():
    op.drop_table("reminders_sent")
