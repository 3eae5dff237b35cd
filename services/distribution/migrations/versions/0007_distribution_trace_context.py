"""the outbox keeps the trace context of the span that wrote each event (shared/observe/tracing.py)

Revision ID: 0007_distribution
Revises: 0006_distribution

The relay publishes an event long after the request or the message that caused it; with the
writer's `traceparent` and `tracestate` on its row, the relay's `send` span and the consumers'
spans join that trace.
"""

from spc.shared.sql.migrations import add_outbox_trace_context_v1, drop_outbox_trace_context_v1

revision = "0007_distribution"
down_revision = "0006_distribution"
branch_labels = None
depends_on = None


def upgrade():
    from alembic import op

    add_outbox_trace_context_v1(op)


def downgrade():
    from alembic import op

    drop_outbox_trace_context_v1(op)
