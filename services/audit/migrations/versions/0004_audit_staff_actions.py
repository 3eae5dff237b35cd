"""who did what through the admin API (staff_actions) and idempotency keys (shared/sql/staff.py)

Revision ID: 0004_audit
Revises: 0003_audit
"""

from spc.shared.sql.staff import create_tables_v1, drop_tables_v1

revision = "0004_audit"
down_revision = "0003_audit"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    create_tables_v1(op)


def downgrade():
    from alembic import op

    drop_tables_v1(op)
