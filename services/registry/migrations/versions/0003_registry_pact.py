"""the pact for real: the pact as one document with its versions and amendments; the list's filters
as indexed rows (service_tags)

Revision ID: 0003_registry
Revises: 0002_registry

Existing services keep their pact as a contract-v1 pact (version 1, recorded now by
`migration/0003`): mission, contact, domains, territories and commitments move into
`pact_document`; their filter rows are written.
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0003_registry"
down_revision = "0002_registry"
branch_labels = None
depends_on = None

OLD = ("mission", "contact_email", "domains", "commitments", "departments", "communes")


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or [])


def upgrade():
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("name_key", sa.String(300), nullable=True))
        batch.add_column(sa.Column("pact_document", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("pact_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("term_ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("principles", sa.Integer(), nullable=True))

    from spc.services.registry.domain.model import name_key
    from spc.services.registry.domain.pact import Pact
    from spc.services.registry.repository import principles_mask, tags_of

    bind = op.get_bind()
    old = sa.table(
        "services",
        sa.column("id"),
        sa.column("name"),
        sa.column("legal_form"),
        sa.column("siren"),
        sa.column("rna"),
        *[sa.column(c) for c in OLD],
        sa.column("name_key"),
        sa.column("pact_document", sa.JSON()),
        sa.column("pact_version"),
        sa.column("principles"),
    )
    pacts = {}
    for row in bind.execute(sa.select(old)).mappings().all():
        pact = Pact.from_dict(
            {
                "name": row["name"],
                "legal_form": row["legal_form"],
                "siren": row["siren"],
                "rna": row["rna"],
                "mission": row["mission"],
                "contact_email": row["contact_email"],
                "domains": _json(row["domains"]),
                "commitments": _json(row["commitments"]),
                "territories": {"departments": _json(row["departments"]), "communes": _json(row["communes"])},
            }
        )
        pacts[row["id"]] = pact
        bind.execute(
            old.update()
            .where(old.c.id == row["id"])
            .values(
                name_key=name_key(row["name"]), pact_document=pact.to_dict(), pact_version=1, principles=principles_mask(pact)
            )
        )

    # (SQLite rebuilds the table: before any table refers to it)
    with op.batch_alter_table("services") as batch:
        for column in ("name_key", "pact_document", "pact_version", "principles"):
            batch.alter_column(
                column,
                existing_type=sa.JSON()
                if column == "pact_document"
                else sa.Integer()
                if column in ("pact_version", "principles")
                else sa.String(300),
                nullable=False,
            )
        for column in OLD:
            batch.drop_column(column)
        batch.create_index("ix_services_term_ends_on", ["term_ends_on"])
        batch.create_index("ix_services_name_id", ["name", "id"])
        batch.create_index("ix_services_status_name_id", ["status", "name", "id"])

    tags = op.create_table(
        "service_tags",
        sa.Column("service_id", sa.String(64), sa.ForeignKey("services.id"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
    )
    op.create_index("ix_service_tags_kind_code", "service_tags", ["kind", "code", "service_id"])
    pact_versions = op.create_table(
        "pact_versions",
        sa.Column("service_id", sa.String(64), sa.ForeignKey("services.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("amendment_id", sa.String(64), nullable=True),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "amendments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(64), sa.ForeignKey("services.id"), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("proposed_by", sa.String(300), nullable=False),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("pact_version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_amendments_service_id", "amendments", ["service_id"])

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for service_id, pact in pacts.items():
        bind.execute(
            pact_versions.insert().values(
                service_id=service_id,
                version=1,
                document=pact.to_dict(),
                amendment_id=None,
                recorded_by="migration/0003",
                recorded_at=now,
            )
        )
        rows = [{"service_id": service_id, "kind": k, "code": c} for k, c in tags_of(pact)]
        if rows:
            bind.execute(tags.insert(), rows)


def downgrade():
    """Back to contract-v1 columns: the current pact's v1 parts are kept (texts, governance,
    signatories, term, versions and amendments are lost)."""
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("mission", sa.Text(), nullable=True))
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=True))
        for column in ("domains", "commitments", "departments", "communes"):
            batch.add_column(sa.Column(column, sa.JSON(), nullable=True))
    bind = op.get_bind()
    t = sa.table(
        "services",
        sa.column("id"),
        sa.column("pact_document", sa.JSON()),
        sa.column("mission"),
        sa.column("contact_email"),
        *[sa.column(c, sa.JSON()) for c in OLD[2:]],
    )
    for row in bind.execute(sa.select(t.c.id, t.c.pact_document)).all():
        doc = _json(row.pact_document) if isinstance(row.pact_document, str) else row.pact_document
        bind.execute(
            t.update()
            .where(t.c.id == row.id)
            .values(
                mission=doc["mission"],
                contact_email=doc["contact_email"],
                domains=doc.get("domains", []),
                commitments=[c["principle"] for c in doc.get("commitments", [])],
                departments=doc["territories"].get("departments", []),
                communes=doc["territories"].get("communes", []),
            )
        )
    op.drop_index("ix_amendments_service_id", table_name="amendments")
    op.drop_table("amendments")
    op.drop_table("pact_versions")
    op.drop_index("ix_service_tags_kind_code", table_name="service_tags")
    op.drop_table("service_tags")
    with op.batch_alter_table("services") as batch:
        batch.drop_index("ix_services_term_ends_on")
        batch.drop_index("ix_services_name_id")
        batch.drop_index("ix_services_status_name_id")
        for column in ("name_key", "pact_document", "pact_version", "term_ends_on", "principles"):
            batch.drop_column(column)
        for column in OLD:
            batch.alter_column(
                column, existing_type=sa.JSON() if column not in ("mission", "contact_email") else sa.Text(), nullable=False
            )
