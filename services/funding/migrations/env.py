"""Alembic environment of the funding service (run through spc.shared.migrations)."""
from alembic import context

from spc.services.funding.orm import metadata
from spc.shared.migrations import run_env

run_env(context, metadata)
