"""the money, traceable: a programme's funder and legal basis, a release's evidence and reason

Revision ID: 0003_funding
Revises: 0002_funding

Existing programmes keep null (funder and legal basis not given, as contract v1 allowed);
existing released tranches keep null evidence and reason. Each programme's committed amount is
set to what its tranches not cancelled add up to: the amounts of tranches cancelled by a
revocation before this version go back to the programmes (idempotent; the downgrade leaves
the corrected amounts).
"""

from alembic import op
import sqlalchemy as sa

revision = "0003_funding"
down_revision = "0002_funding"
branch_labels = None
depends_on = None

PROGRAMME_COLUMNS = (
    ("funder_name", sa.String(length=300)),
    ("funder_siren", sa.String(length=9)),
    ("funder_siret", sa.String(length=14)),
    ("legal_basis", sa.Text()),
)
TRANCHE_COLUMNS = (("release_evidence", sa.String(length=500)), ("release_reason", sa.Text()))

RECONCILE = sa.text(
    "UPDATE programmes SET committed_cents = COALESCE((SELECT SUM(t.amount_cents) FROM tranches t "
    "JOIN grants g ON g.id = t.grant_id WHERE g.programme_id = programmes.id AND t.status <> 'cancelled'), 0)"
)


def upgrade():
    for table, columns in (("programmes", PROGRAMME_COLUMNS), ("tranches", TRANCHE_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                batch_op.add_column(sa.Column(name, type_, nullable=True))
    op.execute(RECONCILE)


def downgrade():
    for table, columns in (("programmes", PROGRAMME_COLUMNS), ("tranches", TRANCHE_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(columns):
                batch_op.drop_column(name)
