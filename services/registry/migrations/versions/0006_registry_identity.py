"""what the national registries say of each service's declared identity (issue 20)

Revision ID: 0006_registry
Revises: 0005_registry

Services registered before this version start `unverified`: the periodic re-check asks the
registries about them when a registry is configured (SPC_IDENTITY_REGISTRY).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_registry"
down_revision = "0005_registry"
branch_labels = None
depends_on = None

COLUMNS = (("identity_fields", sa.JSON()), ("identity_source", sa.String(length=200)), ("identity_checked_at", sa.DateTime()))


def upgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_status", sa.String(length=20), nullable=False, server_default="unverified"))
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.create_index("ix_services_identity_status", ["identity_status"])


def downgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index("ix_services_identity_status")
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column("identity_status")
