"""Funding's money on SQLite and PostgreSQL: the totals reconcile at every step of the story
(tests/funding_ledger.py), and migration 0003 gives back the amounts that revocations cancelled
before it while keeping existing programmes, with their funder and legal basis missing."""

from datetime import date

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


def test_a_suspension_freezes_with_the_grants_and_tranches_read_in_one_statement(pg_url):
    """The violation's funding hop (issue 19: statements per hop): the inbox claim, the account
    locked, its grants with their tranches (one statement: it was two), the account's and the
    tranches' updates (one executemany), the pending approvals a suspension voids, the outbox row."""
    from sqlalchemy import event as sqlalchemy_event

    from spc.services.funding.domain import commands
    from spc.shared.messaging.consumer import apply_once
    from tests.unit.fakes import standing

    database = spec("funding").open(pg_url)
    try:
        uow = database.uow
        apply_once(uow(), standing("s-hop", "active", 2), handlers.EVENT_HANDLERS["registry.service_approved"])
        programme = handlers.create_programme(uow(), commands.CreateProgramme("P", 1_000_000, "funding_officer/t"))
        for _ in range(2):
            tranches = [{"amount_cents": 10_000, "due_date": date(2030, 1, 1), "milestone": f"m{i}"} for i in range(2)]
            handlers.award_grant(uow(), commands.AwardGrant(programme["id"], "s-hop", tranches, "funding_officer/t"))
        sent = []

        def count(conn, cursor, statement, parameters, context, executemany):
            sent.append(statement)

        suspended = standing("s-hop", "suspended", 3)
        sqlalchemy_event.listen(database.engine, "before_cursor_execute", count)
        try:
            apply_once(uow(), suspended, handlers.EVENT_HANDLERS[suspended.event_type])
        finally:
            sqlalchemy_event.remove(database.engine, "before_cursor_execute", count)
        work = [
            s
            for s in sent
            if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW", "SAVEPOINT", "RELEASE"))
        ]
        grants = handlers.service_funding(uow(), "s-hop")
        assert grants["frozen"] and {t["status"] for g in grants["grants"] for t in g["tranches"]} == {"frozen"}
        assert len([s for s in work if "FROM tranches" in s or "FROM grants" in s]) == 1, work
        assert len(work) == 7, "\n".join(work)
    finally:
        database.close()
