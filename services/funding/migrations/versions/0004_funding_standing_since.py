"""the public read API: when a service's status last changed, and the registry's reason

Revision ID: 0004_funding
Revises: 0003_funding

Accounts from before this version keep null (not recorded then); the next change of status
records both.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_funding"
down_revision = "0003_funding"
branch_labels = None
depends_on = None

COLUMNS = (("status_since", sa.DateTime()), ("status_reason", sa.Text()))


def upgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
