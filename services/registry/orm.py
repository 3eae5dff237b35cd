"""The registry's tables, mapped onto the pure domain classes (SQLAlchemy 2, imperative)."""
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from spc.shared.outbox import define_messaging_tables
from spc.shared.staff import define_staff_tables

from .domain.model import CitizenService

metadata = MetaData()
outbox, processed_events = define_messaging_tables(metadata)
staff_actions, idempotency_keys = define_staff_tables(metadata)

services = Table(
    "services", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("legal_form", String(50), nullable=False),
    Column("siren", String(9), nullable=True, index=True),
    Column("rna", String(10), nullable=True, index=True),
    Column("mission", Text, nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("domains", JSON, nullable=False),
    Column("commitments", JSON, nullable=False),
    Column("departments", JSON, nullable=False),
    Column("communes", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("status_reason", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("audit_version", Integer, nullable=False),
    Column("open_violations", Integer, nullable=False),
    Column("registered_by", String(300), nullable=False),
)

_mapper_registry = registry()
_mapped = False


def start_mappers():
    """Map the domain classes once per process (never at import time)."""
    global _mapped
    if not _mapped:
        _mapper_registry.map_imperatively(CitizenService, services)
        _mapped = True
