"""reminders: each deadline's reminder sent once, ever (shared/sql/reminders.py)

Revision ID: 0007_funding
Revises: 0006_funding
"""

from alembic import op

from spc.shared.sql import reminders

revision = "0007_funding"
down_revision = "0006_funding"
branch_labels = None
depends_on = None


def upgrade():
    reminders.create_table_v1(op)


def downgrade():
    op.drop_table("reminders_sent")
