"""Funding's money on SQLite and PostgreSQL: the totals reconcile at every step of the story
(tests/funding_ledger.py), and migration 0003 gives back the amounts that revocations cancelled
before it while keeping existing programmes, with their funder and legal basis missing."""

from sqlalchemy import text

from spc.runtime.fleet import spec
from spc.services.funding import handlers
from spc.shared.sql.migrations import upgrade
from spc.shared.sql.persistence import make_engine
from tests.funding_ledger import walk


def test_funding_totals_reconcile_at_every_step_on_the_database(db_url):
    database = spec("funding").open(db_url)
    try:
        steps = dict(walk(database.uow))
    finally:
        database.close()
    assert steps["grants awarded"] == {"A petite enfance": (1_000_000, 0), "B contract v1": (120_000, 380_000)}
    assert steps["revoked"] == {"A petite enfance": (450_000, 550_000), "B contract v1": (50_000, 450_000)}
    assert steps["money given back granted again"]["A petite enfance"] == (1_000_000, 0)


def test_the_funding_migration_gives_back_what_revocations_cancelled_before_it(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "funding", spec("funding").migrations, "0002_funding")
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO programmes (id, name, budget_cents, committed_cents) VALUES ('p-old', 'Old', 1000, 900)",
            "INSERT INTO accounts (service_id, status, version) VALUES ('s-old', 'revoked', 5)",
            "INSERT INTO grants (id, programme_id, service_id) VALUES ('g-old', 'p-old', 's-old')",
            "INSERT INTO tranches (id, grant_id, service_id, amount_cents, due_date, milestone, status) VALUES "
            "('t1', 'g-old', 's-old', 200, '2026-01-01', 'm', 'released'), "
            "('t2', 'g-old', 's-old', 700, '2026-06-01', 'm', 'cancelled')",
        ):
            conn.execute(text(sql))
    upgrade(engine, "funding", spec("funding").migrations)
    engine.dispose()
    database = spec("funding").open(db_url)
    try:
        old = handlers.get_programme(database.uow(), "p-old")
        tranches = handlers.service_funding(database.uow(), "s-old")["grants"][0]["tranches"]
    finally:
        database.close()
    assert (old["funder"], old["legal_basis"]) == (None, None)
    assert (old["committed_cents"], old["available_cents"], old["released_cents"], old["cancelled_cents"]) == (200, 800, 200, 700)
    assert [(t["release_evidence"], t["release_reason"]) for t in tranches] == [(None, None)] * 2
