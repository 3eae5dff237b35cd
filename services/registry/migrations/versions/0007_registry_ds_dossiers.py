"""applications from Démarches Simplifiées: each dossier read, each démarche's sync cursor

Revision ID: 0007_registry
Revises: 0006_registry
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_registry"
down_revision = "0006_registry"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ds_dossiers",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("demarche", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("ds_id", sa.String(length=200), nullable=True),
        sa.Column("notified_status", sa.String(length=20), nullable=True),
        sa.Column("notify_claimed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_ds_dossiers_service_id", "ds_dossiers", ["service_id"])
    op.create_table(
        "ds_cursors",
        sa.Column("demarche", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("end_cursor", sa.String(length=500), nullable=True),
        sa.Column("updated_since", sa.String(length=40), nullable=True),
        sa.Column("deleted_since", sa.String(length=40), nullable=True),
        sa.Column("polling_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("demarche"),
    )


def downgrade():
    op.drop_table("ds_cursors")
    op.drop_index("ix_ds_dossiers_service_id", table_name="ds_dossiers")
    op.drop_table("ds_dossiers")
