"""the journal refuses UPDATE and DELETE (a trigger); the chain's head remembers the last checkpoint
published of it (audit.journal_checkpoint)

Revision ID: 0007_audit
Revises: 0006_audit

PostgreSQL: a plpgsql function raising an exception, fired before each UPDATE or DELETE of a row
of `journal`, and before a TRUNCATE of it. SQLite: two triggers raising ABORT (TRUNCATE does not
exist there). INSERT is untouched: the journal only ever grows.

A later migration that must change journal rows (fill a new column, as 0006 did) drops the
triggers first and creates them again after (the statements here). On
SQLite, a batch migration that recreates `journal` (dropping a column, changing a type) drops its
triggers with the old table: create them again after it.
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_audit"
down_revision = "0006_audit"
branch_labels = None
depends_on = None

FUNCTION = "spc_journal_append_only"
MESSAGE = "the audit journal is append-only"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '{MESSAGE}, ' || TG_OP || ' refused on ' || TG_TABLE_NAME,
                          ERRCODE = 'restrict_violation';
END
$$
"""
PG_TRIGGERS = [
    f"CREATE TRIGGER journal_no_update_or_delete BEFORE UPDATE OR DELETE ON journal FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
    f"CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER journal_no_{op_.lower()} BEFORE {op_} ON journal "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}, {op_} refused on journal'); END"
    for op_ in ("UPDATE", "DELETE")
]


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for name in ("journal_no_truncate", "journal_no_update_or_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON journal")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    else:
        for name in ("journal_no_delete", "journal_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade():
    with op.batch_alter_table("journal_head") as batch:
        batch.add_column(sa.Column("checkpoint_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("checkpoint_at", sa.DateTime(), nullable=True))
    create_triggers()


def downgrade():
    drop_triggers()
    with op.batch_alter_table("journal_head") as batch:
        batch.drop_column("checkpoint_at")
        batch.drop_column("checkpoint_seq")
