"""The registry's tables, mapped onto the pure domain classes (SQLAlchemy 2, imperative)."""

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from spc.shared.sql.outbox import define_messaging_tables
from spc.shared.sql.reminders import define_reminder_table
from spc.shared.sql.staff import define_staff_tables

from .domain.dossiers import DossierLink, SyncCursor
from .domain.model import Amendment, CitizenService, PactVersion

metadata = MetaData()
outbox, processed_events = define_messaging_tables(metadata)
staff_actions, idempotency_keys = define_staff_tables(metadata)
reminders_sent = define_reminder_table(metadata)  # each reminder once, ever (shared/sql/reminders.py)

services = Table(
    "services",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),
    Column("legal_form", String(50), nullable=False),
    Column("siren", String(9), nullable=True, index=True),
    Column("rna", String(10), nullable=True, index=True),
    Column("pact_document", JSON, nullable=False),
    Column("pact_version", Integer, nullable=False),
    Column("term_ends_on", Date, nullable=True, index=True),
    Column("principles", Integer, nullable=False, default=0),  # bits in PRINCIPLES' order (the list's filter)
    Column("status", String(20), nullable=False, index=True),
    Column("status_reason", Text, nullable=True),
    # while suspended: when it began and the principle at stake (0004; the public view says them)
    Column("suspended_since", DateTime, nullable=True),
    Column("suspension_principle", String(40), nullable=True),
    Column("version", Integer, nullable=False),
    Column("audit_version", Integer, nullable=False),
    Column("open_violations", Integer, nullable=False),
    Column("registered_by", String(300), nullable=False),
    # what the national registries say of the declared identity (0006; domain/identity.py)
    Column("identity_status", String(20), nullable=False, server_default="unverified", index=True),
    Column("identity_fields", JSON, nullable=True),
    Column("identity_source", String(200), nullable=True),
    Column("identity_checked_at", DateTime, nullable=True),
    Index("ix_services_name_id", "name", "id"),
    Index("ix_services_status_name_id", "status", "name", "id"),
)

# where each service serves, as the list filters on it, one row per (service, kind, code):
# `department` (covered whole), `touches` (served whole or in part), `commune`, `national`
service_tags = Table(
    "service_tags",
    metadata,
    Column("service_id", String(64), ForeignKey("services.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("code", String(40), primary_key=True),
    Index("ix_service_tags_kind_code", "kind", "code", "service_id"),
)

pact_versions = Table(
    "pact_versions",
    metadata,
    Column("service_id", String(64), ForeignKey("services.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("document", JSON, nullable=False),
    Column("amendment_id", String(64), nullable=True),
    Column("recorded_by", String(300), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

amendments = Table(
    "amendments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=False, index=True),
    Column("changes", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("proposed_by", String(300), nullable=False),
    Column("proposed_at", DateTime, nullable=False),
    Column("decided_by", String(300), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("pact_version", Integer, nullable=True),
)

# Démarches Simplifiées (0007; domain/dossiers.py): each dossier read, and each démarche's cursor
ds_dossiers = Table(
    "ds_dossiers",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("demarche", Integer, nullable=False),
    Column("service_id", String(64), ForeignKey("services.id"), nullable=True, index=True),
    Column("state", String(20), nullable=True),
    Column("updated_at", String(40), nullable=True),
    Column("problem", Text, nullable=True),
    Column("seen_at", DateTime, nullable=False),
    Column("ds_id", String(200), nullable=True),  # its GraphQL id, for the write-back
    Column("notified_status", String(20), nullable=True),  # the status the applicant was last told of
    Column("notify_claimed_at", DateTime, nullable=True),  # a process is sending the applicant a message
)

ds_cursors = Table(
    "ds_cursors",
    metadata,
    Column("demarche", Integer, primary_key=True, autoincrement=False),
    Column("end_cursor", String(500), nullable=True),
    Column("updated_since", String(40), nullable=True),
    Column("deleted_since", String(40), nullable=True),
    Column("polling_until", DateTime, nullable=True),  # a registry process is polling it, until then
)

# E-mails to the services' contacts (their reminders), written in the transaction that took the
# reminder and sent by the mail relay (mailer.py): none lost in a crash, each sent once per
# reminder (`reminder_id` unique; a crash between the SMTP server's acceptance and `sent_at`
# sends it again, with the same Message-ID)
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reminder_id", String(120), nullable=False, unique=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("to_address", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("claimed_until", DateTime, nullable=True),
    Column("sent_at", DateTime, nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)

_mapper_registry = registry()
_mapped = False


def start_mappers():
    """Map the domain classes once per process (never at import time)."""
    global _mapped
    if not _mapped:
        _mapper_registry.map_imperatively(CitizenService, services)
        _mapper_registry.map_imperatively(PactVersion, pact_versions)
        _mapper_registry.map_imperatively(Amendment, amendments)
        _mapper_registry.map_imperatively(DossierLink, ds_dossiers)
        _mapper_registry.map_imperatively(SyncCursor, ds_cursors)
        _mapped = True
