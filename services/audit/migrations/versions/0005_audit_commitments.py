"""audit keeps the pact's commitments from the newest standing, to show with each finding

Revision ID: 0005_audit
Revises: 0004_audit

Services already known keep null until the registry's next standing event carries them.
"""

from alembic import op
import sqlalchemy as sa


revision = "0005_audit"
down_revision = "0004_audit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compliance") as batch:
        batch.add_column(sa.Column("commitments", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("compliance") as batch:
        batch.drop_column("commitments")
