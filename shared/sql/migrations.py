"""Alembic, run from code: each service keeps its own migrations folder and version table."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

_ADVISORY_KEY = 0x5BC0  # serialises concurrent upgrades from several replicas on PostgreSQL


def alembic_config(service, migrations_dir, connection=None):
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations_dir)))
    cfg.attributes["connection"] = connection
    cfg.attributes["version_table"] = f"alembic_version_{service}"
    return cfg


def upgrade(engine, service, migrations_dir, revision="head"):
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        command.upgrade(alembic_config(service, migrations_dir, conn), revision)


def pending(engine, service, migrations_dir):
    """The revisions the database still lacks, newest first (empty at the latest schema)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(service, migrations_dir))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{service}"}).get_current_heads()
    have = {r.revision for head in current for r in script.iterate_revisions(head, "base")}
    return [r.revision for r in script.walk_revisions() if r.revision not in have]


def downgrade(engine, service, migrations_dir, revision="base"):
    with engine.begin() as conn:
        command.downgrade(alembic_config(service, migrations_dir, conn), revision)


def run_env(context, target_metadata):
    """The body of every service's migrations/env.py."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `spc migrate` (spc.shared.sql.migrations.upgrade)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def create_inbox_age_index_v1(op):
    """For each service's migration that added it (0008_audit, 0006_distribution, 0005_funding,
    0005_registry): `processed_events` (shared/sql/outbox.py) indexed by `processed_at`, which the
    prune reads (shared/sql/retention.py). Frozen: a later change of the index is a new function."""
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_events_processed_at"), ["processed_at"], unique=False)


def drop_inbox_age_index_v1(op):
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_processed_at"))


def add_outbox_trace_context_v1(op):
    """For each service's migration that added them (0010_audit, 0007_distribution, 0008_funding,
    0009_registry): the outbox row keeps the W3C trace context of the span that wrote it
    (shared/observe/tracing.py). Frozen."""
    import sqlalchemy as sa

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))
        batch_op.add_column(sa.Column("tracestate", sa.String(length=512), nullable=True))


def drop_outbox_trace_context_v1(op):
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("tracestate")
        batch_op.drop_column("traceparent")
