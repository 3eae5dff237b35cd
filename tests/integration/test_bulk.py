"""Rows in bulk (shared/sql/bulk.py) on SQLite and PostgreSQL: the rows land as given, in the order
given (ids from the sequence follow it), with their datetimes, texts and empty values intact; a
taken key is skipped and not returned; the statement's text is the same whatever the batch's
size (compiled once); `among` finds the same rows as `IN`; an aware datetime is stored as its UTC
moment, naive, like every other."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from spc.shared.sql.bulk import among, insert_new, insert_rows


@pytest.fixture
def db(db_url, open_database):
    return open_database("audit", db_url)


def _table(db):
    from spc.services.audit import orm

    return orm.journal_pending


def _rows(n, start=0):
    return [
        {
            "event_id": f"e-{i:04d}",
            "event_type": "t.x",
            "body": f'{{"n": {i}, "q": "l\'a \\"b\\" ü"}}',
            "received_at": datetime(2026, 12, 5, 7, 40, 0, i),
            "service_id": None if i % 2 else f"s-{i}",
        }
        for i in range(start, start + n)
    ]


def _statements(db):
    seen = []
    sa_event.listen(db.engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


def test_rows_land_as_given_in_order(db):
    table, rows = _table(db), list(reversed(_rows(50)))
    with db.engine.begin() as conn:
        insert_rows(conn, table, rows)
    with db.engine.connect() as conn:
        found = conn.execute(
            select(table.c.event_id, table.c.event_type, table.c.body, table.c.received_at, table.c.service_id).order_by(
                table.c.id
            )
        ).all()
    assert [tuple(r) for r in found] == [
        (r["event_id"], r["event_type"], r["body"], r["received_at"], r["service_id"]) for r in rows
    ]


@pytest.mark.parametrize("insert", ["rows", "new"])
def test_an_aware_datetime_is_stored_as_its_moment_in_utc(db, insert):
    table = _table(db)
    paris = timezone(timedelta(hours=2))
    rows = _rows(2)
    rows[0]["received_at"] = datetime(2026, 7, 14, 11, 30, tzinfo=paris)
    rows[1]["received_at"] = datetime(2026, 7, 14, 9, 45, tzinfo=timezone.utc)
    with db.engine.begin() as conn:
        if insert == "rows":
            insert_rows(conn, table, rows)
        else:
            insert_new(conn, table, rows, "event_id")
    with db.engine.connect() as conn:
        stored = conn.execute(select(table.c.received_at).order_by(table.c.id)).scalars().all()
    assert stored == [datetime(2026, 7, 14, 9, 30), datetime(2026, 7, 14, 9, 45)]
    assert rows[0]["received_at"].tzinfo is paris  # the caller's rows are left as they were


def test_taken_keys_are_skipped_and_not_returned(db):
    table = _table(db)
    with db.engine.begin() as conn:
        assert insert_new(conn, table, _rows(3), "event_id") == {"e-0000", "e-0001", "e-0002"}
    with db.engine.begin() as conn:
        assert insert_new(conn, table, _rows(4, start=1), "event_id") == {"e-0003", "e-0004"}
        assert insert_new(conn, table, [], "event_id") == set()
    with db.engine.connect() as conn:
        assert conn.execute(select(table.c.event_id).order_by(table.c.id)).scalars().all() == [
            "e-0000",
            "e-0001",
            "e-0002",
            "e-0003",
            "e-0004",
        ]


@pytest.mark.parametrize("change", ["fewer", "more", "other"])
def test_rows_must_name_the_same_columns(db, change):
    rows = _rows(3)
    if change in ("fewer", "other"):
        del rows[2]["service_id"]
    if change in ("more", "other"):
        rows[2]["id"] = 7
    with db.engine.begin() as conn, pytest.raises(ValueError, match="same columns"):
        insert_rows(conn, _table(db), rows)
    with db.engine.begin() as conn, pytest.raises(ValueError, match="same columns"):
        insert_new(conn, _table(db), rows, "event_id")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_one_statement_text_whatever_the_batch_size(db):
    """On PostgreSQL: what SQLAlchemy compiles once and psycopg parses once."""
    table, seen = _table(db), _statements(db)
    with db.engine.begin() as conn:
        insert_new(conn, table, _rows(3), "event_id")
        insert_new(conn, table, _rows(200, start=3), "event_id")
        conn.execute(select(table.c.id).where(among(conn, table.c.event_id, ["e-0001"])))
        conn.execute(select(table.c.id).where(among(conn, table.c.event_id, [f"e-{i:04d}" for i in range(150)])))
    assert len(seen) == 4 and seen[0] == seen[1] and seen[2] == seen[3]


def test_among_finds_what_in_finds(db):
    table = _table(db)
    with db.engine.begin() as conn:
        insert_rows(conn, table, _rows(20))
        wanted = ["e-0003", "e-0011", "nothing", "e-0019"]
        by_id = conn.execute(select(table.c.event_id).where(among(conn, table.c.event_id, wanted))).scalars()
        ids = conn.execute(select(table.c.id).where(table.c.event_id.in_(wanted))).scalars().all()
        by_number = conn.execute(select(table.c.event_id).where(among(conn, table.c.id, ids))).scalars()
        nothing = conn.execute(select(table.c.event_id).where(among(conn, table.c.id, []))).scalars().all()
    assert sorted(by_id) == sorted(by_number) == ["e-0003", "e-0011", "e-0019"]
    assert nothing == []
