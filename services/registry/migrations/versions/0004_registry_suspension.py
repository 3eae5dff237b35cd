"""the public read API: a suspension's start and the principle at stake

Revision ID: 0004_registry
Revises: 0003_registry

Services suspended before this version keep null (when and why were not recorded): the public
view then says only that a violation is open; the next suspension records both.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_registry"
down_revision = "0003_registry"
branch_labels = None
depends_on = None

COLUMNS = (("suspended_since", sa.DateTime()), ("suspension_principle", sa.String(length=40)))


def upgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
