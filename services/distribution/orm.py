"""Distribution's tables, mapped onto the pure domain classes (SQLAlchemy 2, imperative)."""

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import registry

from spc.shared.sql.outbox import define_messaging_tables
from spc.shared.sql.staff import define_staff_tables

from .domain.model import Counter, DistributedService, Listing

metadata = MetaData()
outbox, processed_events = define_messaging_tables(metadata)
staff_actions, idempotency_keys = define_staff_tables(metadata)

counters = Table(
    "counters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("commune_insee", String(5), nullable=False, index=True),
    Column("department", String(3), nullable=False, index=True),
    Column("area", String(24), nullable=False, index=True),  # its commune's canton (COG), see domain.model
    Column("address", String(500), nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("format", String(16), nullable=False),  # events.COUNTER_FORMATS
    Column("open", Boolean, nullable=False),
    # the rest of the directory's record (counter.upserted 1.1); null: unknown
    Column("type", String(16), nullable=True),  # events.COUNTER_TYPES
    Column("email", String(200), nullable=True),
    Column("phone", String(30), nullable=True),
    Column("hours", JSON, nullable=True),  # {"lundi": ["09:00-12:00", ...], ...}
    Column("note", String(500), nullable=True),
    # when the change this row holds happened (its event's occurred_at): an older one is skipped
    Column("changed_at", DateTime, nullable=True),
)
services = Table(
    "services",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("departments", JSON, nullable=False),
    Column("communes", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("national", Boolean, nullable=False),
    Column("areas", JSON, nullable=False),  # derived from the territory (domain.model.areas_served)
    # what a counter's catalogue shows of the pact (standings 1.1); null: not carried yet
    Column("mission", Text, nullable=True),
    Column("domains", JSON, nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("referral", Text, nullable=True),
    Column("commitments", JSON, nullable=True),  # [{"principle", "text"}]
)
service_areas = Table(  # the same areas, one row each: which services a counter's change concerns
    "service_areas",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("area", String(24), primary_key=True),
    Index("ix_service_areas_area", "area"),
)
listings = Table(
    "listings",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("counter_id", String(64), primary_key=True),
    Column("status", String(20), nullable=False),
    Index("ix_listings_counter_status", "counter_id", "status"),
)

relayed_reports = Table(  # who relayed a visitor's report from which counter, when: never its text
    "relayed_reports",
    metadata,
    Column("event_id", String(36), primary_key=True),  # the usager.report_submitted it became
    Column("counter_id", String(64), nullable=False, index=True),
    Column("relayed_by", String(200), nullable=False),
    Column("relayed_at", DateTime, nullable=False),
)

_mapper_registry = registry()
_mapped = False


def start_mappers():
    global _mapped
    if _mapped:
        return
    _mapper_registry.map_imperatively(Counter, counters)
    _mapper_registry.map_imperatively(DistributedService, services)
    _mapper_registry.map_imperatively(Listing, listings)
    _mapped = True
