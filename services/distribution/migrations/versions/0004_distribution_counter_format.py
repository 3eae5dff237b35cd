"""each counter's format, as the ANCT directory gives it (counter.upserted 1.1): a mobile counter
may be based outside the département it serves

Revision ID: 0004_distribution
Revises: 0003_distribution

Existing counters were all checked as fixed (or recorded before places were checked): they become
`fixe`, the value an event without `format` means.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_distribution"
down_revision = "0003_distribution"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("format", sa.String(16), nullable=True))
    op.execute("UPDATE counters SET format = 'fixe'")
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("format", existing_type=sa.String(16), nullable=False)


def downgrade():
    with op.batch_alter_table("counters") as batch:
        batch.drop_column("format")
