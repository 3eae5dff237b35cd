"""audit follows the registry's standing by version (newest wins), like funding and distribution

Revision ID: 0002_audit
Revises: 0001_audit
"""

from alembic import op
import sqlalchemy as sa


revision = "0002_audit"
down_revision = "0001_audit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("compliance") as batch:
        batch.add_column(sa.Column("registry_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("compliance") as batch:
        batch.drop_column("registry_version")
