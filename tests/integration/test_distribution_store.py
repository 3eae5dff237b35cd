"""Distribution's store on SQLite and PostgreSQL: the area migration backfills existing rows from
the COG, matching by area runs in SQL (service_areas, counters.area), and on PostgreSQL a service's
change and a counter's change in its places never run side by side, while counter changes do
(one counter's one after the other)."""

import json

import eventlet
import pytest
from sqlalchemy import text

from spc.runtime.fleet import spec
from spc.services.distribution import handlers
from spc.shared.core.envelope import Event
from spc.shared.sql.migrations import upgrade
from spc.shared.sql.persistence import make_engine
from tests.support import await_lock_waiters


def counter(counter_id, commune, department):
    return {
        "counter_id": counter_id,
        "name": f"France services {counter_id}",
        "commune_insee": commune,
        "department": department,
        "address": "",
    }


def follow(uow, sid, version, status="active", event_type="registry.service_approved", **territories):
    with uow() as u:
        handlers.on_service_standing(
            u,
            Event(
                event_type,
                {"service_id": sid, "name": sid, "status": status, "version": version, "territories": territories},
                "t",
            ),
        )
        u.commit()


def published(uow, sid):
    return [x["counter_id"] for x in handlers.service_listings(uow(), sid)["listings"] if x["status"] == "published"]


@pytest.fixture
def distribution(db_url):
    database = spec("distribution").open(db_url)
    yield database
    database.close()


def test_the_area_migration_backfills_counters_and_services_from_the_cog(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "distribution", spec("distribution").migrations, "0002_distribution")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO counters (id, name, commune_insee, department, address, open) VALUES "
                "('fs-849', 'Saint-Grégoire', '35278', '35', '', true), "
                "('fs-old', 'Unknown', '35999', '35', '', true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO services (service_id, name, status, version, departments, communes) "
                "VALUES ('s-old', 'Crèche', 'active', 2, :d, :c)"
            ),
            {"d": json.dumps(["29"]), "c": json.dumps(["35024", "99999"])},
        )
    upgrade(engine, "distribution", spec("distribution").migrations)
    with engine.connect() as conn:
        areas = dict(conn.execute(text("SELECT id, area FROM counters")).all())
        served = [r[0] for r in conn.execute(text("SELECT area FROM service_areas ORDER BY area"))]
    engine.dispose()
    assert areas == {"fs-849": "canton:3503", "fs-old": "department:35"}
    assert served == ["canton:3503", "department:29"]
    database = spec("distribution").open(db_url)
    handlers.import_counters(database.uow(), [counter("fs-new", "35051", "35")])  # canton 3503: found by index
    assert published(database.uow, "s-old") == ["fs-new"]
    database.close()


def test_matching_by_area_runs_in_sql(distribution):
    uow = distribution.uow
    handlers.import_counters(
        uow(),
        [
            counter("fs-849", "35278", "35"),
            counter("fs-212", "35238", "35"),
            counter("fs-ajaccio", "2A004", "2A"),
            counter("fs-bastia", "2B033", "2B"),
            counter("fs-18e", "75118", "75"),
            counter("fs-lamentin", "97213", "972"),
        ],
    )
    follow(uow, "betton", 2, communes=["35024"])
    follow(uow, "corse", 2, regions=["94"])
    follow(uow, "paris", 2, communes=["75111"])
    follow(uow, "fdf", 2, communes=["97209"])
    follow(uow, "france", 2, national=True)
    assert [published(uow, s) for s in ("betton", "corse", "paris", "fdf")] == [
        ["fs-849"],
        ["fs-ajaccio", "fs-bastia"],
        ["fs-18e"],
        ["fs-lamentin"],
    ]
    assert len(published(uow, "france")) == 6
    handlers.import_counters(uow(), [counter("fs-mamoudzou", "97611", "976"), counter("fs-cesson", "35051", "35")])
    catalogue = handlers.counter_catalogue(uow(), "fs-cesson")["services"]
    assert [s["service_id"] for s in catalogue] == ["betton", "france"]
    assert [s["service_id"] for s in handlers.counter_catalogue(uow(), "fs-mamoudzou")["services"]] == ["france"]
    follow(uow, "corse", 3, event_type="registry.pact_amended", departments=["976"])  # moved: relisted
    assert published(uow, "corse") == ["fs-mamoudzou"]
    # the areas' index follows a move, and stands through a suspension (which keeps the areas)
    handlers.import_counters(uow(), [counter("fs-porto-vecchio", "2A247", "2A"), counter("fs-dzaoudzi", "97608", "976")])
    assert published(uow, "corse") == ["fs-dzaoudzi", "fs-mamoudzou"]
    follow(uow, "betton", 3, status="suspended", communes=["35024"])
    assert published(uow, "betton") == []
    follow(uow, "betton", 4, communes=["35024"])
    assert published(uow, "betton") == ["fs-849", "fs-cesson"]
    handlers.import_counters(uow(), [counter("fs-849-bis", "35278", "35")])  # found through the index
    assert published(uow, "betton") == ["fs-849", "fs-849-bis", "fs-cesson"]


def test_a_national_service_change_waits_for_a_counter_change_and_sees_it(pg_url):
    database = spec("distribution").open(pg_url)
    uow = database.uow
    with uow() as opening:
        handlers.upsert_counter(opening, counter("fs-mamoudzou", "97611", "976"))  # holds `national` shared
        national = eventlet.spawn(follow, uow, "france", 2, national=True)
        await_lock_waiters(database.engine, 1, "the national change waiting on the counter change")
        assert not national.dead, "the national service's change ran beside an uncommitted counter change"
        opening.commit()
    national.wait()
    assert published(uow, "france") == ["fs-mamoudzou"]
    database.close()


def test_an_amendment_that_moves_a_service_takes_its_places_in_order_beside_an_older_event(pg_url):
    """v4 moves the service from 22 to 35 while v3 (still 22) holds 22: v4 must wait for 22 before
    it locks the row (the old and the new territory's places in order, then the row), never hold
    the row and then wait for 22 while v3 waits for the row: PostgreSQL would abort one of them
    (a deadlock; a counter change, which is not retried, could be that one)."""
    database = spec("distribution").open(pg_url)
    uow = database.uow
    follow(uow, "S", 2, departments=["22"])
    with uow() as older:
        older.distribution.lock_places(["22"])  # v3's handler, its places taken, its row not yet
        moving = eventlet.spawn(follow, uow, "S", 4, event_type="registry.pact_amended", departments=["35"])
        await_lock_waiters(database.engine, 1, "v4 waiting for a place")
        handlers.on_service_standing(
            older,
            Event(
                "registry.pact_amended",
                {"service_id": "S", "name": "S", "status": "active", "version": 3, "territories": {"departments": ["22"]}},
                "t",
            ),
        )
        older.commit()
    moving.wait()
    with uow() as u:
        service = u.distribution.service("S")
        assert (service.version, service.departments) == (4, ["35"])
    database.close()


def test_a_suspension_withdraws_in_seven_statements_and_reads_no_counter(pg_url):
    """The violation's last hop (issue 19: statements per hop; the consumer's inbox claim is one
    more): the service read unlocked (its territory: to lock its places in order), the
    département's lock, the service's row locked and updated, its listings, their update (one
    executemany), the outbox row. Not the counters of its territory: a service that may not be
    listed is withdrawn wherever it is."""
    from sqlalchemy import event as sqlalchemy_event

    database = spec("distribution").open(pg_url)
    try:
        uow = database.uow
        handlers.import_counters(uow(), [counter("fs-849", "35278", "35"), counter("fs-212", "35238", "35")])
        follow(uow, "betton", 2, departments=["35"])
        assert published(uow, "betton") == ["fs-212", "fs-849"]
        sent = []

        def count(conn, cursor, statement, parameters, context, executemany):
            sent.append(statement.split(None, 1)[0].upper() + " " + statement)

        sqlalchemy_event.listen(database.engine, "before_cursor_execute", count)
        try:
            follow(uow, "betton", 3, status="suspended", event_type="registry.service_suspended", departments=["35"])
        finally:
            sqlalchemy_event.remove(database.engine, "before_cursor_execute", count)
        work = [s for s in sent if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET", "SHOW"))]
        assert published(uow, "betton") == []
        assert not [s for s in work if "FROM counters" in s], work
        assert len(work) == 7, "\n".join(work)
    finally:
        database.close()


def test_counter_changes_in_one_departement_run_side_by_side_and_a_suspension_waits_for_them(pg_url):
    """Counter changes hold their places shared (a flood of them never queues a suspension behind
    one another: bench/README.md, figure `priority`), a service's change holds them exclusively:
    a second counter of the same département commits while the first's change is open, and the
    suspension waits for that change, then sees its listing and withdraws it."""
    database = spec("distribution").open(pg_url)
    uow = database.uow
    try:
        follow(uow, "S", 2, departments=["35"])
        with uow() as first:
            handlers.upsert_counter(first, counter("fs-rennes", "35238", "35"))  # lists S, uncommitted
            beside = eventlet.spawn(handlers.import_counters, uow(), [counter("fs-betton", "35024", "35")])
            with eventlet.Timeout(20, AssertionError("a counter change waited for another counter's change")):
                beside.wait()
            suspension = eventlet.spawn(
                follow, uow, "S", 3, status="suspended", event_type="registry.service_suspended", departments=["35"]
            )
            await_lock_waiters(database.engine, 1, "the suspension waiting on the counter change")
            assert not suspension.dead, "the suspension ran beside an uncommitted counter change"
            first.commit()
        suspension.wait()
        assert published(uow, "S") == []
        with uow() as u:
            assert {x.counter_id for x in u.distribution.listings_of("S").values()} == {"fs-rennes", "fs-betton"}
    finally:
        database.close()


def test_two_changes_of_one_counter_run_one_after_the_other(pg_url):
    """The second change of a counter waits for the first (its key), then reads the counter as
    the first left it: moved to 22, then back to 35 by a later event, it is in 35 and listed for
    35's service only (read before the first's commit, the second would have found nothing to
    change and left it in 22)."""
    database = spec("distribution").open(pg_url)
    uow = database.uow
    try:
        follow(uow, "A", 2, departments=["22"])
        follow(uow, "B", 2, departments=["35"])
        handlers.import_counters(uow(), [counter("fs-x", "35238", "35")])
        with uow() as first:
            handlers.upsert_counter(first, counter("fs-x", "22278", "22"))
            second = eventlet.spawn(handlers.import_counters, uow(), [counter("fs-x", "35238", "35")])
            await_lock_waiters(database.engine, 1, "the second change waiting on the counter")
            assert not second.dead
            first.commit()
        second.wait()
        with uow() as u:
            assert u.distribution.counter("fs-x").department == "35"
        assert (published(uow, "A"), published(uow, "B")) == ([], ["fs-x"])
    finally:
        database.close()


@pytest.mark.parametrize("url", ["sqlite", "postgresql"])
def test_a_counter_change_older_than_the_one_stored_is_skipped(url, tmp_path, pg_url):
    """The time of the change a counter holds is stored (counters.changed_at) and read back: an
    older change handled later leaves the counter as the newer one put it."""
    from datetime import datetime, timedelta, timezone

    from spc.shared.core import envelope

    database = spec("distribution").open(f"sqlite:///{tmp_path}/d.db" if url == "sqlite" else pg_url)
    uow = database.uow
    try:
        base = datetime(2026, 12, 5, 9, tzinfo=timezone(timedelta(hours=1)))  # a publisher's own offset
        for department, commune, minutes in (("22", "22278", 2), ("35", "35238", 1)):
            with uow() as u:
                sent = envelope.Event("counter.upserted", counter("fs-x", commune, department), "anct")
                handlers.on_counter_upserted(
                    u, envelope.Event(**{**sent.__dict__, "occurred_at": base + timedelta(minutes=minutes)})
                )
                u.commit()
        with uow() as u:
            assert u.distribution.counter("fs-x").department == "22"
    finally:
        database.close()
