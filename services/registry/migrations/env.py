"""Alembic environment of the registry service (run through spc.shared.sql.migrations)."""

from alembic import context

from spc.services.registry.orm import metadata
from spc.shared.sql.migrations import run_env

run_env(context, metadata)
