"""Funding's tables, mapped onto the pure domain classes (SQLAlchemy 2, imperative)."""

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry, relationship

from spc.shared.sql.outbox import define_messaging_tables
from spc.shared.sql.reminders import define_reminder_table
from spc.shared.sql.staff import define_staff_tables

from .domain.approvals import ApprovalRequest
from .domain.model import FundingAccount, Grant, Programme, Tranche

metadata = MetaData()
outbox, processed_events = define_messaging_tables(metadata)
staff_actions, idempotency_keys = define_staff_tables(metadata)
reminders_sent = define_reminder_table(metadata)  # each reminder once, ever (shared/sql/reminders.py)

programmes = Table(
    "programmes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("budget_cents", BigInteger, nullable=False),
    Column("committed_cents", BigInteger, nullable=False),
    # who funds it and the text it rests on (0003); null: not given (a contract-v1 programme)
    Column("funder_name", String(300), nullable=True),
    Column("funder_siren", String(9), nullable=True),
    Column("funder_siret", String(14), nullable=True),
    Column("legal_basis", Text, nullable=True),
)
accounts = Table(
    "accounts",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    # when the status last changed and the registry's reason (0004; the public view says them)
    Column("status_since", DateTime, nullable=True),
    Column("status_reason", Text, nullable=True),
)
grants = Table(
    "grants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("programme_id", String(64), ForeignKey("programmes.id"), nullable=False, index=True),
    Column("service_id", String(64), ForeignKey("accounts.service_id"), nullable=False, index=True),
    Column("awarded_at", DateTime, nullable=True),  # null: awarded before 0009 with no event left to say when
)
tranches = Table(
    "tranches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("grant_id", String(64), ForeignKey("grants.id"), nullable=False, index=True),
    Column("service_id", String(64), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("milestone", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("released_by", String(300), nullable=True),
    Column("released_at", DateTime, nullable=True),
    Column("release_evidence", String(500), nullable=True),  # (0003)
    Column("release_reason", Text, nullable=True),
    Column("approved_by", String(300), nullable=True),  # the second person (0006)
)
# One row per payment order, ever: the database itself refuses a second release of a tranche.
payment_orders = Table(
    "payment_orders",
    metadata,
    Column("tranche_id", String(64), primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("released_at", DateTime, nullable=False),
)

# Changes of money waiting for a second person (0006; domain/approvals.py): at most one pending
# per target, which the database itself holds to (a partial unique index).
approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("action", String(30), nullable=False),
    Column("target_id", String(64), nullable=False, index=True),
    Column("programme_id", String(64), nullable=False),
    Column("service_id", String(64), nullable=True, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("budget_cents", BigInteger, nullable=True),
    Column("reason", Text, nullable=False),
    Column("evidence", String(500), nullable=True),
    Column("status", String(20), nullable=False, index=True),
    Column("requested_by", String(300), nullable=False),
    Column("requester", String(300), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("decided_by", String(300), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
)
Index(
    "ux_approval_requests_pending_target",
    approval_requests.c.target_id,
    unique=True,
    sqlite_where=approval_requests.c.status == "pending",
    postgresql_where=approval_requests.c.status == "pending",
)

_mapper_registry = registry()
_mapped = False


def start_mappers():
    global _mapped
    if _mapped:
        return
    m = _mapper_registry.map_imperatively
    m(Programme, programmes)
    m(Tranche, tranches)
    m(ApprovalRequest, approval_requests)
    m(Grant, grants, properties={"tranches": relationship(Tranche, order_by=tranches.c.due_date, lazy="selectin")})
    m(FundingAccount, accounts, properties={"grants": relationship(Grant, order_by=grants.c.id, lazy="selectin")})
    _mapped = True
