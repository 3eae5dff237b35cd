"""Audit's journal on SQLite and PostgreSQL: the table refuses UPDATE and DELETE (a trigger, from
migration 0007, dropped by its downgrade); the export reads it in batches; a checkpoint publishes
the head through the outbox, and the checkpoint, journaled in turn, never causes another."""

import json
from datetime import timedelta

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from spc.runtime.fleet import spec
from spc.services.audit import handlers, orm
from spc.services.audit.domain import journal
from spc.services.audit.handlers import checkpoint_journal, export_journal
from spc.services.audit.repository import Journal
from spc.shared.core import envelope
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_batch
from spc.shared.core.envelope import Event
from spc.shared.sql.migrations import downgrade, upgrade


@pytest.fixture
def audit_db(db_url):
    database = spec("audit").open(db_url)
    yield database
    database.close()


def _journal(database, events):
    apply_batch(database.uow(), events, handlers.JOURNAL.apply, inbox="journal")
    handlers.chain_journal(database.uow())


def _approved(n):
    return [
        Event(
            "registry.service_approved",
            {"service_id": f"s{i}", "status": "active", "version": 2, "name": "Crèche « Les Lutins »"},
            "registry",
        )
        for i in range(n)
    ]


def _refused(engine, statement):
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="the audit journal is append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))


def _entries(database):
    with database.uow() as u:
        return list(u.journal.entries())


def _checkpoints(engine):
    with engine.connect() as conn:
        return [
            r.body
            for r in conn.execute(
                select(orm.outbox.c.body).where(orm.outbox.c.event_type == "audit.journal_checkpoint").order_by(orm.outbox.c.id)
            )
        ]


def test_the_journal_refuses_update_and_delete_and_still_takes_inserts(audit_db):
    _journal(audit_db, _approved(2))
    engine = audit_db.engine
    _refused(engine, "UPDATE journal SET body = '{}' WHERE seq = 1")
    _refused(engine, "UPDATE journal SET service_id = 'elsewhere'")  # even outside the hash
    _refused(engine, "DELETE FROM journal WHERE seq = 2")
    if engine.dialect.name == "postgresql":
        _refused(engine, "TRUNCATE journal")
    _journal(audit_db, _approved(1))  # the chainer's INSERT
    assert handlers.verify_journal(audit_db.uow()) == {"ok": True, "length": 3}


def test_the_downgrade_drops_the_trigger_and_the_upgrade_brings_it_back(audit_db):
    _journal(audit_db, _approved(1))
    engine, migrations = audit_db.engine, spec("audit").migrations
    downgrade(engine, "audit", migrations, "0006_audit")
    with engine.begin() as conn:
        conn.execute(text("UPDATE journal SET service_id = 'x' WHERE seq = 1"))
    upgrade(engine, "audit", migrations)
    _refused(engine, "DELETE FROM journal")


def test_an_export_in_small_batches_is_every_entry_in_order_up_to_the_head(audit_db):
    _journal(audit_db, _approved(7))
    lines = []
    assert export_journal(audit_db.uow(), lines.append, batch=3)[:2] == (7, 7)
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 8))
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    entries = [journal.Entry(**json.loads(line)) for line in lines]
    assert journal.verify(entries) == {"ok": True, "length": 7}
    later = []
    count, seq, head = export_journal(audit_db.uow(), later.append, after=4, batch=2)
    assert (count, seq, head) == (3, 7, entries[-1].hash) and later == lines[4:]
    assert export_journal(audit_db.uow(), later.append, after=7) == (0, 7, None)


def test_a_checkpoint_publishes_the_head_and_its_own_entry_never_causes_another(audit_db):
    uow, start = audit_db.uow, utcnow()
    assert checkpoint_journal(uow(), 300, start) is None  # nothing journaled yet
    _journal(audit_db, _approved(3))
    assert checkpoint_journal(uow(), 300, start + timedelta(seconds=10)) is None  # not yet: period
    assert checkpoint_journal(uow(), 300, start + timedelta(seconds=301)) == 3
    [body] = _checkpoints(audit_db.engine)
    checkpoint = envelope.parse(body.encode("utf-8"))
    last = _entries(audit_db)[-1]
    assert (checkpoint.payload["seq"], checkpoint.payload["hash"]) == (3, last.hash)
    _journal(audit_db, [checkpoint])  # the journal lane journals it like any event: entry 4
    assert handlers.verify_journal(uow()) == {"ok": True, "length": 4}
    assert checkpoint_journal(uow(), 300, start + timedelta(days=1)) is None  # moved by itself only
    _journal(audit_db, _approved(1))  # entry 5
    assert checkpoint_journal(uow(), 300, start + timedelta(seconds=400)) is None  # within the period
    assert checkpoint_journal(uow(), 300, start + timedelta(seconds=601)) == 5
    assert len(_checkpoints(audit_db.engine)) == 2
    with audit_db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.journal)).scalar() == 5


def test_a_verification_while_the_chain_moves_checks_the_head_it_read_first(pg_url, monkeypatch):
    """On PostgreSQL each statement reads its own snapshot: entries appended while the chain is
    read are past the head the verification took, never a chain 'longer than its head' (a false
    alarm the example story once raised in CI). SQLite has one writer: it cannot move meanwhile."""
    audit_db = spec("audit").open(pg_url)
    _journal(audit_db, _approved(3))
    read = Journal.entries

    def entries_then_the_chain_moves(self, *args, **kwargs):
        yield from read(self, *args, **kwargs)
        _journal(audit_db, _approved(2))  # committed by another session, between two statements

    monkeypatch.setattr(Journal, "entries", entries_then_the_chain_moves)
    assert handlers.verify_journal(audit_db.uow()) == {"ok": True, "length": 3}
    monkeypatch.undo()
    assert handlers.verify_journal(audit_db.uow()) == {"ok": True, "length": 5}
    audit_db.close()
