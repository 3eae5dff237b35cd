"""matching by area served: each counter's area (its commune's canton in INSEE's COG), each
service's régions, national flag and areas, and the service_areas rows a counter's change looks up

Revision ID: 0003_distribution
Revises: 0002_distribution

Existing rows are backfilled from the COG (shared/core/geography.py): a counter's area from its
commune (its département's for a code the COG does not know); a service's areas from its
départements and communes (no régions, not national: contract-v1 standings had neither).
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_distribution"
down_revision = "0002_distribution"
branch_labels = None
depends_on = None


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or [])


def upgrade():
    with op.batch_alter_table("counters") as batch:
        batch.add_column(sa.Column("area", sa.String(24), nullable=True))
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("regions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("national", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("areas", sa.JSON(), nullable=True))
    service_areas = op.create_table(
        "service_areas",
        sa.Column("service_id", sa.String(64), primary_key=True),
        sa.Column("area", sa.String(24), primary_key=True),
    )
    op.create_index("ix_service_areas_area", "service_areas", ["area"])
    _backfill(op.get_bind(), service_areas)
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("area", existing_type=sa.String(24), nullable=False)
        batch.create_index("ix_counters_area", ["area"], unique=False)
    with op.batch_alter_table("services") as batch:
        for name, kind in (("regions", sa.JSON()), ("national", sa.Boolean()), ("areas", sa.JSON())):
            batch.alter_column(name, existing_type=kind, nullable=False)


def _backfill(bind, service_areas):
    from spc.shared.core.geography import geography

    geo = geography()
    counters = sa.table("counters", sa.column("id"), sa.column("commune_insee"), sa.column("department"), sa.column("area"))
    rows = bind.execute(sa.select(counters.c.id, counters.c.commune_insee, counters.c.department)).all()
    if rows:
        bind.execute(
            counters.update().where(counters.c.id == sa.bindparam("cid")).values(area=sa.bindparam("a")),
            [{"cid": r.id, "a": geo.area_of(r.commune_insee) or f"department:{r.department}"} for r in rows],
        )
    services = sa.table(
        "services",
        sa.column("service_id"),
        sa.column("departments"),
        sa.column("communes"),
        sa.column("regions", sa.JSON()),
        sa.column("national"),
        sa.column("areas", sa.JSON()),
    )
    for row in bind.execute(sa.select(services.c.service_id, services.c.departments, services.c.communes)).all():
        areas = {f"department:{d}" for d in _json(row.departments)}
        areas |= {geo.area_of(c) for c in _json(row.communes)} - {None}
        bind.execute(
            services.update()
            .where(services.c.service_id == row.service_id)
            .values(regions=[], national=False, areas=sorted(areas))
        )
        if areas:
            bind.execute(service_areas.insert(), [{"service_id": row.service_id, "area": a} for a in sorted(areas)])


def downgrade():
    op.drop_index("ix_service_areas_area", table_name="service_areas")
    op.drop_table("service_areas")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("areas")
        batch.drop_column("national")
        batch.drop_column("regions")
    with op.batch_alter_table("counters") as batch:
        batch.drop_index("ix_counters_area")
        batch.drop_column("area")
