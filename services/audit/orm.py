"""Audit's tables, mapped onto the pure domain classes (SQLAlchemy 2, imperative)."""

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from spc.shared.sql.outbox import define_messaging_tables
from spc.shared.sql.reminders import define_reminder_table
from spc.shared.sql.staff import define_staff_tables

from .domain.journal import JournalHead
from .domain.model import Compliance, Finding, ParkedFact
from .domain.reports import CitizenReport

metadata = MetaData()
outbox, processed_events = define_messaging_tables(metadata)
staff_actions, idempotency_keys = define_staff_tables(metadata)
reminders_sent = define_reminder_table(metadata)  # each reminder once, ever (shared/sql/reminders.py)

compliance = Table(
    "compliance",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("known", Boolean, nullable=False),
    Column("registry_status", String(20), nullable=False),
    Column("registry_version", Integer, nullable=False, server_default="0"),
    Column("open_violations", Integer, nullable=False),
    Column("audit_version", Integer, nullable=False),
    # the pact's commitments from the newest standing: [{principle, text, pact_version}], null
    # until a standing carrying them arrives
    Column("commitments", JSON, nullable=True),
)
findings = Table(
    "findings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("principle", String(40), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("summary", Text, nullable=False),
    Column("reported_by", String(200), nullable=False),
    Column("evidence_url", Text, nullable=True),
    Column("source_event_id", String(36), nullable=True, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("is_violation", Boolean, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("remediation_deadline", DateTime, nullable=True, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("resolution", Text, nullable=True),
    Column("resolved_by", String(300), nullable=True),
    Column("resolved_at", DateTime, nullable=True),
    Column("escalated_at", DateTime, nullable=True),
    Column("escalated_by", String(300), nullable=True),  # null: the deadline passed
    Column("escalation_reason", Text, nullable=True),
    Column("threshold_category", String(30), nullable=True),  # opened by the report threshold
    # the service's answer (its remediation plan and date), then that it is done
    Column("plan", Text, nullable=True),
    Column("plan_due_on", Date, nullable=True),
    Column("answered_by", String(300), nullable=True),
    Column("answered_at", DateTime, nullable=True),
    Column("done_at", DateTime, nullable=True),
    Column("done_by", String(300), nullable=True),
    Column("done_note", Text, nullable=True),
)
# Citizen reports. `text` is personal data: null once purged (`purged_at`), the rest is kept.
reports = Table(
    "reports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("category", String(30), nullable=False),
    Column("text", Text, nullable=True),
    Column("counter_id", String(64), nullable=True, index=True),
    Column("created_at", DateTime, nullable=False, index=True),
    Column("source_event_id", String(36), nullable=True, unique=True),
    Column("status", String(20), nullable=False),
    Column("finding_id", String(64), nullable=True, index=True),
    Column("dismissal_reason", Text, nullable=True),
    Column("triaged_by", String(300), nullable=True),
    Column("triaged_at", DateTime, nullable=True),
    Column("purged_at", DateTime, nullable=True),
    Index("ix_reports_status_created_at", "status", "created_at"),
)
# The pact versions audit has heard of (registry standings carry the pact's version and commitments)
pact_versions = Table(
    "pact_versions",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("pact_version", Integer, primary_key=True, autoincrement=False),
    Column("commitments", JSON, nullable=False),
    Column("registry_version", Integer, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)
journal = Table(
    "journal",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    # the service the event is about (its payload's service_id): outside the hash, for the dossier
    Column("service_id", String(64), nullable=True),
    Index("ix_journal_service_id_seq", "service_id", "seq"),
)
# Events received but not yet chained: lanes add them without touching the chain's head, and
# one chainer at a time appends them to the chain in batches (handlers.chain_journal).
journal_pending = Table(
    "journal_pending",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("service_id", String(64), nullable=True),
)
# Facts about a service audit has not heard of yet, kept until the registry's event arrives
parked_facts = Table(
    "parked_facts",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("queue", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("parked_at", DateTime, nullable=False, index=True),
)
# The chain's head, and the last checkpoint published of it (audit.journal_checkpoint).
journal_head = Table(
    "journal_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("checkpoint_seq", Integer, nullable=False, server_default="0"),
    Column("checkpoint_at", DateTime, nullable=True),
)

_mapper_registry = registry()
_mapped = False


def start_mappers():
    global _mapped
    if _mapped:
        return
    _mapper_registry.map_imperatively(Compliance, compliance)
    _mapper_registry.map_imperatively(Finding, findings)
    _mapper_registry.map_imperatively(CitizenReport, reports)
    _mapper_registry.map_imperatively(ParkedFact, parked_facts)
    _mapper_registry.map_imperatively(JournalHead, journal_head)
    _mapped = True
