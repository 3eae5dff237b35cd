"""Engines, the unit of work and migrations, free of nameko.

Each service owns its database. SQLite (the default) serialises writers: transactions take the
write lock at BEGIN and, under eventlet, an in-process semaphore keeps greenthreads from waiting
on that lock inside C (which would stall the whole hub). PostgreSQL goes through psycopg 3 (its C
build: bench/README.md measured it against pg8000, the pure-Python driver, still accepted as
`postgresql+pg8000://`); under eventlet its waits go through eventlet's green selector, so one slow
query never stalls other workers (`cooperative_psycopg`).
"""

import os
import time
from pathlib import Path
from types import ModuleType

import eventlet.event
import orjson
from sqlalchemy import create_engine, event, func, null, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session

from .outbox import Inbox, OutboxWriter
from ..core.unit_of_work import AbstractUnitOfWork, Repository


def database_url(service, environ=os.environ, create_dir=True):
    """`<SERVICE>_DATABASE_URL`, else a SQLite file under SPC_DATA_DIR (default ./var), whose
    folder is made unless `create_dir` is false (a command that only reads creates nothing)."""
    url = environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    data_dir = Path(environ.get("SPC_DATA_DIR", "var"))
    if create_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / f'{service}.db').resolve()}"


POSTGRESQL_DRIVER = "postgresql+psycopg"
CONNECT_TIMEOUT_SECONDS = 10  # a database host that answers nothing (a partition) fails, not hangs
# A process frozen (SIGSTOP, a stalled VM) inside a transaction would hold its row locks, and its
# replicas would wait on them, as long as it stays frozen: PostgreSQL ends such a session after
# this long idle in its transaction (SPC's transactions last milliseconds). A URL's own `options`
# replaces it.
IDLE_IN_TRANSACTION_MS = 30_000


def cooperative_psycopg():
    """Make psycopg 3 wait through eventlet when the process is monkey-patched.

    psycopg picks its wait function at import: with its C build, `wait_c`, a C loop on poll()
    that eventlet cannot patch, so one slow query would stall every greenthread of the service.
    `wait_selector` waits on a `selectors.DefaultSelector`, which eventlet makes green; it is set
    here, with eventlet's selector, whatever the import order (stack notes: two concurrent
    `pg_sleep(0.5)` take 1.0 s with wait_c, 0.5 s with this). Connecting (`wait_conn`) uses the same
    selector. A process that is not monkey-patched (a CLI command) keeps the C wait."""
    from eventlet import patcher
    import psycopg.waiting as waiting

    if not patcher.is_monkey_patched("select"):
        return False
    from eventlet.green import selectors as green_selectors

    waiting.DefaultSelector = green_selectors.DefaultSelector
    waiting.wait = waiting.wait_selector
    return True


def postgresql_url(url):
    """`postgresql://` (no driver named) → psycopg 3; a driver named is kept."""
    url = make_url(url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername=POSTGRESQL_DRIVER)
    return url


PING_AFTER_REST_SECONDS = 1.0


def ping_after_rest(engine):
    """Ping a pooled connection on checkout only when it has rested in the pool a while.

    A connection that sat idle may have been closed under it (the server restarted, failed over,
    or ended an idle session); one handed back a moment ago is alive. `pool_pre_ping` pinged every
    checkout: a round trip more in each transaction, three in each hop of a violation (the
    consumer's transaction, the relay's claim and its mark; a tenth of a hop's CPU in a profile).
    A ping that fails raises DisconnectionError, and the pool replaces the connection
    (SQLAlchemy's pessimistic recipe). A connection that dies while in use, or that had rested
    under a second when the server went, fails its transaction (`pool_pre_ping` hid the latter):
    SQLAlchemy then invalidates the whole pool, the consumer holds its messages and
    tries again (docs/reliability.md). The pool is LIFO, so under any steady flow the same few
    connections stay warm and are never pinged."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _rested(_dbapi_conn, record):
        if record is not None:
            record.info["spc_rested_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy):
        rested_at = record.info.get("spc_rested_at")
        if rested_at is None or time.monotonic() - rested_at < PING_AFTER_REST_SECONDS:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection did not answer its ping: {exc}") from exc

    return engine


def make_engine(url):
    url = make_url(url)
    if url.get_backend_name() == "postgresql":
        url = postgresql_url(url)
        connect_args = {}
        if url.get_driver_name() == "psycopg":
            cooperative_psycopg()
            if "connect_timeout" not in url.query:
                connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
            # SPC speaks UTF-8; a SQL_ASCII database would otherwise hand psycopg bytes for text,
            # before check_encoding could say in one line what is wrong with it
            if "client_encoding" not in url.query:
                connect_args["client_encoding"] = "utf8"
            if "options" not in url.query:  # libpq's startup options: no statement, no transaction
                connect_args["options"] = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
        # JSON columns parsed by orjson (C): a catalogue reads two per service listed
        return ping_after_rest(
            create_engine(
                url,
                pool_size=10,
                max_overflow=30,
                pool_use_lifo=True,
                hide_parameters=True,
                connect_args=connect_args,
                json_deserializer=orjson.loads,
            )
        )
    if url.get_backend_name() != "sqlite":
        return ping_after_rest(create_engine(url, pool_size=10, max_overflow=30, pool_use_lifo=True, hide_parameters=True))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # SQLAlchemy's recipe: we emit BEGIN ourselves
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class PriorityLock:
    """One holder at a time, waiting cooperatively; urgent waiters (violations, standings, the
    relay) go before the others, so a queue of bulk transactions never delays a suspension by
    more than the one transaction in progress."""

    def __init__(self):
        self._held = False
        self._waiters = {True: [], False: []}

    def acquire(self, urgent=False):
        if not self._held and not self._waiters[True] and (urgent or not self._waiters[False]):
            self._held = True
            return True
        waiter = eventlet.event.Event()
        self._waiters[urgent].append(waiter)
        try:
            while not waiter.ready():  # the releaser hands the lock over (a stray wakeup is not that)
                waiter.wait()
        except BaseException:  # killed while waiting: leave the line, or pass the lock on
            if waiter.ready():
                self.release()
            else:
                self._waiters[urgent].remove(waiter)
            raise
        return True

    def release(self):
        for queue in (self._waiters[True], self._waiters[False]):
            if queue:
                queue.pop(0).send(True)  # held stays True: ownership passes on
                return
        self._held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def transaction_lock(engine):
    """SQLite: one writer at a time in this process, waiting cooperatively (urgent work first).
    Others: none."""
    return PriorityLock() if engine.dialect.name == "sqlite" else None


def check_database(engine):
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class UnitOfWork(AbstractUnitOfWork):
    """The SQLAlchemy unit of work: repositories, the outbox and the inbox share one session.

    Subclasses set `orm` (the service's orm module: its tables and start_mappers()) and attach
    their repositories in `_repositories(session)`.
    """

    outbox_table = None
    inbox_table = None
    orm: ModuleType | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.orm is not None:
            cls.outbox_table, cls.inbox_table = cls.orm.outbox, cls.orm.processed_events

    def __init__(self, engine, producer, lock=None, on_commit=None, urgent=False):
        if self.orm is not None:
            self.orm.start_mappers()
        self.engine, self.producer, self.lock, self.on_commit = engine, producer, lock, on_commit
        self.urgent = urgent

    def _begin(self):
        if self.lock is not None:
            self.lock.acquire(self.urgent)
        try:
            # a Session, not a sessionmaker per unit of work: each sessionmaker is a new Session
            # class, whose event dispatch SQLAlchemy builds anew on its first statement (seen as a
            # sixth of audit's idle CPU, and paid again by every event in every service)
            self.session = Session(bind=self.engine, expire_on_commit=False)
            self.outbox = OutboxWriter(self.session, self.outbox_table)
            self.inbox = Inbox(self.session, self.inbox_table)
            self._repositories(self.session)
        except Exception:
            self._unlock()
            raise

    def _end(self):
        try:
            self.session.rollback()
            self.session.close()
        finally:
            self._unlock()

    def _unlock(self):
        if self.lock is not None:
            self.lock.release()

    def _repositories(self, session):
        """Attach this service's repositories."""

    def _commit(self):
        self.session.commit()
        if self.outbox.added and self.on_commit is not None:
            self.on_commit()
        self.outbox.added = 0

    def rollback(self):
        self.session.rollback()

    def flush(self):
        self.session.flush()


class SqlRepository(Repository):
    """Base of a service's SQLAlchemy repository: one session, the aggregates it hands out
    tracked for the unit of work (`_one`, `add`)."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def add(self, obj):
        self.session.add(self._seen(obj))

    def _count_by_status(self, table, amount=None):
        """[(status, rows, sum of the `amount` column or None)] of `table`, one query."""
        total = func.sum(table.c[amount]) if amount else null()
        return self.session.execute(select(table.c.status, func.count(), total).group_by(table.c.status)).all()

    def _one(self, query, for_update=False, create=None):
        """The first result of `query` (row-locked when asked), tracked; with `create`, a factory
        of the object to insert when there is none (first_or_create)."""
        if create is not None:
            return self._seen(first_or_create(self.session, query, create, for_update))
        return self._seen(first(self.session, query, for_update))


def first(session, query, for_update=False):
    """The first result of `query`, row-locked (SELECT … FOR UPDATE) when asked; a locked read
    refreshes an object the session had already loaded, so it is never decided on stale data."""
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def standings_page(session, table, children, after, limit):
    """For `GET /standings`: the rows of `table` (service_id, status, version) after `after`, by
    service id, each with its `children` rows (service_id, status) counted by status."""
    rows = session.execute(
        select(table.c.service_id, table.c.status, table.c.version)
        .where(table.c.service_id > after)
        .order_by(table.c.service_id)
        .limit(limit)
    ).all()
    counts = {}
    if rows:
        for sid, status, n in session.execute(
            select(children.c.service_id, children.c.status, func.count())
            .where(children.c.service_id.in_([r.service_id for r in rows]))
            .group_by(children.c.service_id, children.c.status)
        ):
            counts.setdefault(sid, {})[status] = n
    return [({"service_id": r.service_id, "status": r.status, "version": r.version}, counts.get(r.service_id, {})) for r in rows]


def first_or_create(session, query, factory, for_update=False):
    """`first(...)`, or a new object from `factory()` inserted now. Two transactions creating the
    same row at once (two events about a new service, handled concurrently) do not fail: the
    loser's insert is rolled back to a savepoint and it reads (and locks) the winner's row."""
    found = first(session, query, for_update)
    if found is not None:
        return found
    created = factory()
    if insert_unless_taken(session, lambda: session.add(created)):
        return created
    found = first(session, query, for_update)
    if found is None:
        raise LookupError("a conflicting row vanished")
    return found


def insert_unless_taken(session, insert):
    """Run `insert()` in a savepoint; False (and nothing written) if another transaction took
    the key first. The transaction goes on either way."""
    try:
        with session.begin_nested():
            insert()
        return True
    except IntegrityError:
        return False
