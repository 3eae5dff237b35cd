"""when the change a counter's row holds happened (`occurred_at` of the counter.upserted or
counter.closed applied last), so an older change that arrives later is skipped

Revision ID: 0008_distribution
Revises: 0007_distribution

Counter events carry no version: two changes of one counter handled by two workers, or one
retried after the other, could be applied out of order. Nullable: unknown until the counter's
next event (an import from the directory's file leaves it as it is).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_distribution"
down_revision = "0007_distribution"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("changed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("changed_at")
