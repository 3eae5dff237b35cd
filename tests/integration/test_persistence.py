"""Units of work, migrations, concurrency and the outbox on SQLite and PostgreSQL."""

import subprocess
import sys
import time
from datetime import date

import eventlet
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from spc.runtime.fleet import spec
from spc.services.funding import handlers as funding
from spc.services.funding import orm as funding_orm
from spc.services.funding.domain import commands
from spc.shared.core.envelope import Event
from spc.shared.core.errors import Conflict
from spc.shared.messaging.broker import Publisher
from spc.shared.sql.migrations import downgrade
from spc.shared.sql.outbox import OutboxRelay
from spc.shared.sql.persistence import make_engine, transaction_lock
from tests.support import EventTap, await_lock_waiters, wait_for


@pytest.mark.parametrize("service", ["registry", "funding", "distribution", "audit"])
def test_migrations_go_up_and_down_and_up_again(db_url, service):
    engine = make_engine(db_url)
    spec(service).migrate(engine)
    downgrade(engine, service, spec(service).migrations)
    spec(service).migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM alembic_version_{service}")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("service", ["registry", "funding", "distribution", "audit"])
def test_the_migrations_build_exactly_the_tables_the_code_maps(db_url, service):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    orm = spec(service).unit_of_work.orm
    engine = make_engine(db_url)
    spec(service).migrate(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": f"alembic_version_{service}"})
        diff = [
            d
            for d in compare_metadata(context, orm.metadata)
            if not (d[0] == "remove_table" and d[1].name.startswith("alembic_version"))
        ]
    engine.dispose()
    assert diff == []


@pytest.fixture
def funding_db(db_url):
    database = spec("funding").open(db_url)
    yield database.engine, database.uow
    database.close()


def active_service(uow, service_id="s1"):
    event = Event("registry.service_approved", {"service_id": service_id, "status": "active", "version": 2}, "t")
    with uow() as u:
        funding.on_service_standing(u, event)
        u.commit()


def test_concurrent_grants_never_exceed_the_budget(funding_db):
    engine, uow = funding_db
    active_service(uow)
    prog = funding.create_programme(uow(), commands.CreateProgramme("P", 1_000, "t"))
    tranche = [{"amount_cents": 300, "due_date": date(2026, 1, 1)}]

    def attempt(_):
        try:
            funding.award_grant(uow(), commands.AwardGrant(prog["id"], "s1", tranche, "t"))
            return True
        except Conflict:
            return False

    results = list(eventlet.GreenPool(10).imap(attempt, range(10)))
    assert results.count(True) == 3
    assert funding.get_programme(uow(), prog["id"])["committed_cents"] == 900


def test_concurrent_releases_of_one_tranche_pay_once(funding_db):
    engine, uow = funding_db
    active_service(uow)
    prog = funding.create_programme(uow(), commands.CreateProgramme("P", 1_000, "t"))
    grant = funding.award_grant(
        uow(), commands.AwardGrant(prog["id"], "s1", [{"amount_cents": 500, "due_date": date(2026, 1, 1)}], "t")
    )
    tid = grant["tranches"][0]["id"]

    def attempt(_):
        try:
            funding.release_tranche(uow(), commands.ReleaseTranche(tid, "t"))
            return "released"
        except Conflict as exc:
            return exc.code

    results = list(eventlet.GreenPool(8).imap(attempt, range(8)))
    assert results.count("released") == 1 and set(results) == {"released", "already_released"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(funding_orm.payment_orders)).scalar() == 1
        orders = conn.execute(
            select(func.count())
            .select_from(funding_orm.outbox)
            .where(funding_orm.outbox.c.event_type == "funding.tranche_released")
        ).scalar()
    assert orders == 1


def test_units_of_work_share_one_session_class(funding_db):
    """A unit of work per event must not make a Session class per event (a sessionmaker each):
    SQLAlchemy builds each new class's event dispatch on its first statement, for every event."""
    from sqlalchemy.orm import Session

    engine, uow = funding_db
    before = len(Session.__subclasses__())
    for _ in range(5):
        with uow() as unit:
            unit.session.execute(text("SELECT 1"))
            assert type(unit.session) is Session
    assert len(Session.__subclasses__()) == before


def test_a_transaction_left_idle_is_ended_so_a_frozen_process_cannot_hold_its_locks(pg_url):
    """A process frozen (SIGSTOP) inside a transaction: PostgreSQL ends its session after
    idle_in_transaction_session_timeout (SPC's default 30 s, a URL's `options` replaces it), and
    a replica waiting on its lock goes on."""
    from sqlalchemy.exc import DBAPIError

    with make_engine(pg_url).connect() as conn:
        assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "30s"
    url = make_url(pg_url).update_query_dict({"options": "-c idle_in_transaction_session_timeout=500"})
    frozen, replica = make_engine(url), make_engine(pg_url)
    holder = frozen.connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(4242)"))  # then nothing: frozen
    started = time.monotonic()
    with replica.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))
    assert time.monotonic() - started < 5
    with pytest.raises(DBAPIError, match="idle-in-transaction timeout"):
        holder.execute(text("SELECT 1"))
    holder.close()
    frozen.dispose()
    replica.dispose()


def test_a_rolled_back_use_case_leaves_no_event_in_the_outbox(funding_db):
    engine, uow = funding_db
    active_service(uow)
    with pytest.raises(Conflict):
        funding.award_grant(
            uow(),
            commands.AwardGrant(
                funding.create_programme(uow(), commands.CreateProgramme("P", 10, "t"))["id"],
                "s1",
                [{"amount_cents": 500, "due_date": date(2026, 1, 1)}],
                "t",
            ),
        )
    with engine.connect() as conn:
        types = [r[0] for r in conn.execute(select(funding_orm.outbox.c.event_type))]
    assert "funding.grant_awarded" not in types


def test_the_relay_publishes_committed_events_in_order_and_marks_them_sent(funding_db, amqp_uri):
    engine, uow = funding_db
    tap = EventTap(amqp_uri)
    for version in (2, 3, 4, 5):
        event = Event(
            "registry.service_approved",
            {"service_id": "s1", "status": "suspended" if version % 2 else "active", "version": version},
            "t",
        )
        with uow() as u:
            funding.on_service_standing(u, event)
            u.commit()
    publisher = Publisher(amqp_uri)
    relay = OutboxRelay(engine, funding_orm.outbox, publisher, transaction_lock(engine))
    assert relay.drain() == 3 and relay.drain() == 0  # approval (2) changes no tranche: no event
    publisher.close()
    events = tap.collect(wait=2.0)
    assert [e["event_type"] for e in events] == ["funding.funding_frozen", "funding.funding_unfrozen", "funding.funding_frozen"]
    assert [e["payload"]["version"] for e in events] == [3, 4, 5]
    assert relay.oldest_unsent_age() == 0.0


def test_a_slow_postgresql_query_does_not_stall_other_greenthreads(pg_url):
    """The driver yields to eventlet: five one-second queries run together, not one after another."""
    engine = make_engine(pg_url)

    def slow(_):
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(1)"))

    started = time.monotonic()
    list(eventlet.GreenPool(5).imap(slow, range(5)))
    elapsed = time.monotonic() - started
    engine.dispose()
    assert elapsed < 4.0, f"five concurrent 1 s queries took {elapsed:.1f} s: the driver blocks the hub"


@pytest.mark.parametrize("driver", ["postgresql", "postgresql+psycopg", "postgresql+pg8000"])
def test_two_half_second_queries_finish_together_whatever_the_driver(pg_url, driver):
    """psycopg 3's C wait function is out of eventlet's reach: make_engine swaps in the green
    selector's. Two greenthreads each sleep 0.5 s in PostgreSQL; both are done well under 1 s,
    and a greenthread ticking beside them is never held up."""
    url = make_url(pg_url).set(drivername=driver)
    engine = make_engine(url)
    assert engine.dialect.driver == ("pg8000" if driver.endswith("pg8000") else "psycopg")
    with engine.connect() as conn:  # connections made first: this measures the queries, not connecting
        with engine.connect() as other:
            conn.execute(text("SELECT 1")), other.execute(text("SELECT 1"))
    ticks = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            eventlet.sleep(0.01)

    def sleep(_):
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.5)"))

    tick = eventlet.spawn(ticker)
    started = time.monotonic()
    list(eventlet.GreenPool(2).imap(sleep, range(2)))
    elapsed = time.monotonic() - started
    tick.kill()
    engine.dispose()
    assert elapsed < 0.9, f"two concurrent 0.5 s queries took {elapsed:.2f} s: the driver blocks the hub"
    longest = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    assert longest < 0.4, f"a greenthread waited {longest:.2f} s for the hub during the queries"


def test_a_process_without_eventlet_keeps_psycopg_s_c_wait(pg_url, tmp_path):
    """The swap is for monkey-patched processes only: a plain one (a CLI command) keeps the C wait,
    and queries there as well."""
    script = tmp_path / "plain.py"
    script.write_text(
        "import sys, psycopg.waiting as w\n"
        "from sqlalchemy import text\n"
        "from spc.shared.sql.persistence import make_engine\n"
        "engine = make_engine(sys.argv[1])\n"
        "with engine.connect() as c: print(c.execute(text('SELECT 41 + 1')).scalar(), w.wait.__name__)\n"
    )
    out = subprocess.run([sys.executable, str(script), pg_url], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["42", "wait_c"], out.stderr


def test_a_multi_host_url_connects_to_the_host_that_answers(pg_url):
    """For failover: several hosts in one URL, libpq tries them in order; with
    target_session_attrs=read-write it keeps the first that takes writes. The first host here
    refuses connections (a port nothing listens on)."""
    from spc.cli.client import free_port

    url = make_url(pg_url)
    port = url.port or 5432
    multi = (
        f"postgresql://{url.username or 'postgres'}@/{url.database}"
        f"?host=127.0.0.1:{free_port()}&host={url.host or '127.0.0.1'}:{port}&target_session_attrs=read-write"
    )
    engine = make_engine(multi)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE written (x int)"))
        conn.execute(text("INSERT INTO written VALUES (1)"))
        assert conn.execute(text("SELECT inet_server_port()")).scalar() == port
    engine.dispose()


def test_replicas_escalating_overdue_findings_at_once_escalate_each_once(pg_url):
    """Every audit replica runs the escalation timer; an overdue minor finding becomes one
    violation, not one per replica. The replicas are made to meet: the service's compliance row
    is held locked while four of them start. One takes the overdue finding (FOR UPDATE) and waits
    on the compliance row; the three others skip the finding it holds (SKIP LOCKED) and are done,
    with nothing escalated, before the row is let go."""
    from datetime import timedelta
    from spc.services.audit import handlers as audit
    from spc.services.audit import orm as audit_orm
    from spc.services.audit.domain.commands import RecordFinding
    from spc.shared.core.clock import utcnow

    database = spec("audit").open(pg_url)
    engine, uow = database.engine, database.uow
    with uow() as u:
        audit.on_registry_event(
            u, Event("registry.service_approved", {"service_id": "s1", "status": "active", "version": 2}, "t")
        )
        u.commit()
    audit.record_finding(uow(), RecordFinding("s1", "continuity", "minor", "closed on Mondays", "inspector"))
    later = utcnow() + timedelta(days=31)
    blocker = engine.connect()
    tx = blocker.begin()
    blocker.execute(select(audit_orm.compliance).with_for_update())
    replicas = [eventlet.spawn(audit.escalate_overdue, uow(), later) for _ in range(4)]
    await_lock_waiters(engine, 1, "the replica holding the finding waiting on the compliance row")
    wait_for("the three others done", lambda: sum(r.dead for r in replicas) == 3)
    assert [r.wait() for r in replicas if r.dead] == [0, 0, 0]
    tx.rollback()
    blocker.close()
    assert sum(r.wait() for r in replicas) == 1
    with engine.connect() as conn:
        confirmed = conn.execute(
            select(func.count()).select_from(audit_orm.outbox).where(audit_orm.outbox.c.event_type == "audit.violation_confirmed")
        ).scalar()
        open_violations = conn.execute(select(audit_orm.compliance.c.open_violations)).scalar()
    engine.dispose()
    assert (confirmed, open_violations) == (1, 1)


def test_a_service_told_not_to_migrate_refuses_to_start_on_a_database_behind_its_code(db_url):
    """SPC_MIGRATE=false (a migration step runs first: compose, Kubernetes Jobs): until that step
    has run, the service does not start, rather than fail every message it takes."""
    from spc.shared.sql.bootstrap import SchemaNotReady

    with pytest.raises(SchemaNotReady, match="spc migrate audit"):
        spec("audit").open(db_url, migrate=False)
    spec("audit").open(db_url).close()  # the migration step
    spec("audit").open(db_url, migrate=False).close()
