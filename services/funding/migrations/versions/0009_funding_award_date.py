"""a grant keeps when it was awarded (the open data's dateConvention), instead of the open-data
export reading it out of the outbox, whose sent rows are pruned

Revision ID: 0009_funding
Revises: 0008_funding

Existing grants get the date of their `funding.grant_awarded` event while the outbox still has it
(written in the award's own transaction); a grant whose event was pruned already keeps none (the
export says it cannot publish it, as before).
"""

import json

import sqlalchemy as sa

revision = "0009_funding"
down_revision = "0008_funding"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awarded_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    outbox, grants = (
        sa.table("outbox", sa.column("event_type"), sa.column("body"), sa.column("created_at")),
        sa.table("grants", sa.column("id"), sa.column("awarded_at")),
    )
    for body, created_at in bind.execute(
        sa.select(outbox.c.body, outbox.c.created_at).where(outbox.c.event_type == "funding.grant_awarded")
    ):
        grant_id = json.loads(body).get("payload", {}).get("grant_id")
        if grant_id:
            bind.execute(sa.update(grants).where(grants.c.id == grant_id).values(awarded_at=created_at))


def downgrade():
    from alembic import op

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("awarded_at")
