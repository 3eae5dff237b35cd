"""who did what through the admin API (staff_actions) and idempotency keys (shared/sql/staff.py)

Revision ID: 0002_distribution
Revises: 0001_distribution
"""

from spc.shared.sql.staff import create_tables_v1, drop_tables_v1

revision = "0002_distribution"
down_revision = "0001_distribution"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    create_tables_v1(op)


def downgrade():
    from alembic import op

    drop_tables_v1(op)
