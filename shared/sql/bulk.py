"""Many rows in one statement whose text never changes (issue 19).

`insert(table).values([...])` renders a new statement for every batch (one placeholder per value),
so SQLAlchemy compiles it again each time and psycopg parses it again each time: at 200 rows a
batch that was 40 % of audit's CPU on the journal lane. On PostgreSQL the rows travel instead as
one JSON array (made by orjson, in C) read by `json_to_recordset`: the statement is the same for
every batch, compiled once, and its one parameter costs a string's dump (arrays, one per column,
cost more: psycopg dumps arrays in Python). A list of keys travels as one array for `= ANY(...)`.
SQLite (the embedded mode) keeps the multi-row `VALUES`: the same rows, the same order.
Datetimes are stored naive, in UTC (SPC's columns are `timestamp without time zone`:
shared/core/clock.to_db): an aware one is converted first, as PostgreSQL would drop an offset written
in JSON and SQLite keep the wall time.
"""

import functools
from datetime import datetime

import orjson
from sqlalchemy import any_, bindparam, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.clock import to_db


def _postgresql(session):
    """Whether `session` (a Session or a Connection) talks to PostgreSQL."""
    bind = session.get_bind() if hasattr(session, "get_bind") else session
    return bind.dialect.name == "postgresql"


@functools.lru_cache(maxsize=None)
def _json_insert(table, columns, key):
    """`INSERT … SELECT … FROM ROWS FROM (json_to_recordset(:rows) AS (the columns' types)) WITH
    ORDINALITY … ORDER BY` (rows in the order given: ids from a sequence follow it), `ON CONFLICT
    (key) DO NOTHING RETURNING key` when `key` is given."""
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    typed = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in columns)
    sql = (
        # nosec B608: only the table's own names and types (table.c[name] refuses any other), quoted
        # by the dialect; the values travel as the one bound parameter :rows
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM ROWS FROM "  # nosec B608
        f"(json_to_recordset(CAST(:rows AS json)) AS ({typed})) WITH ORDINALITY AS batch({names}, n) ORDER BY n"
    )
    if key is not None:
        sql += f" ON CONFLICT ({quote(key)}) DO NOTHING RETURNING {quote(key)}"
    return text(sql)


def _as_json(rows):
    return {"rows": orjson.dumps(rows).decode("utf-8")}


def _in_utc(rows):
    """`rows`, with every aware datetime made naive UTC (the same rows when none is aware)."""
    if not any(isinstance(value, datetime) and value.tzinfo is not None for row in rows for value in row.values()):
        return rows
    return [{name: to_db(value) if isinstance(value, datetime) else value for name, value in row.items()} for row in rows]


def _columns(rows):
    """The columns the rows name (every row names the same ones, as in a multi-row VALUES)."""
    columns = tuple(rows[0])
    names = rows[0].keys()
    if any(row.keys() != names for row in rows):
        raise ValueError("every row must name the same columns")
    return columns


def insert_rows(session, table, rows):
    """Insert `rows` (dicts naming the same columns), in this order, in one statement."""
    if not rows:
        return
    columns, rows = _columns(rows), _in_utc(rows)
    if _postgresql(session):
        session.execute(_json_insert(table, columns, None), _as_json(rows))
    else:
        session.execute(insert(table).values(rows))


def insert_new(session, table, rows, key):
    """Insert the `rows` whose `key` column is not taken, in one statement (`INSERT … ON CONFLICT
    (key) DO NOTHING RETURNING key`); returns the keys inserted. A row whose key another
    transaction is inserting at the same moment waits for it, then is skipped if it committed."""
    if not rows:
        return set()
    columns, rows = _columns(rows), _in_utc(rows)
    if _postgresql(session):
        found = session.execute(_json_insert(table, columns, key), _as_json(rows))
    else:
        found = session.execute(
            sqlite_insert(table).values(rows).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        )
    return {row[0] for row in found}


def among(session, column, values):
    """`column IN values` as one parameter on PostgreSQL (`column = ANY(:array)`): the statement's
    text does not grow with the list."""
    values = list(values)
    if _postgresql(session):
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
