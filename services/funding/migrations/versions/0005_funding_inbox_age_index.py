"""the inbox is pruned by age (shared/retention.py): an index on when each event was applied

Revision ID: 0005_funding
Revises: 0004_funding

Each prune batch looks for the oldest applied events; without the index, every batch read the
whole inbox.
"""
from alembic import op

revision = '0005_funding'
down_revision = '0004_funding'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_events_processed_at"), ["processed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_processed_at"))
