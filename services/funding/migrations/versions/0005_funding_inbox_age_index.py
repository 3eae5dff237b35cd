"""the inbox is pruned by age (shared/sql/retention.py): an index on when each event was applied

Revision ID: 0005_funding
Revises: 0004_funding

Each prune batch looks for the oldest applied events; without the index, every batch read the
whole inbox.
"""

from spc.shared.sql.migrations import create_inbox_age_index_v1, drop_inbox_age_index_v1

revision = "0005_funding"
down_revision = "0004_funding"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    create_inbox_age_index_v1(op)


def downgrade():
    from alembic import op

    drop_inbox_age_index_v1(op)
