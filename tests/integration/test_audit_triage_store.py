"""Citizen reports triaged and the service's voice on SQLite and PostgreSQL: the threshold's
finding (once, also with replicas meeting on PostgreSQL), dismissal, linking both ways, the
purge of texts, the journal without them, the dossier; migration 0006 on a journal already
written."""

import json
from datetime import date, timedelta

import eventlet
import pytest
from sqlalchemy import func, insert, select

from spc.runtime.fleet import spec
from spc.services.audit import handlers, orm
from spc.services.audit.domain.commands import AnswerFinding, DismissReport, RecordFinding, ReportFilter
from spc.services.audit.domain.reports import ReportPolicy
from spc.services.audit.exceptions import ReportOfAnotherService
from spc.shared.web.auth import Actor
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_batch, apply_once
from spc.shared.core.envelope import Event
from spc.shared.sql.migrations import downgrade, upgrade
from spc.shared.sql.persistence import make_engine
from tests.support import await_lock_waiters

POLICY = ReportPolicy(threshold=3, window_days=7, retention_days=30)
SECRET = "My neighbour Mr Martin was refused at the desk."


@pytest.fixture
def audit_db(db_url):
    database = spec("audit").open(db_url)
    yield database
    database.close()


def _known(uow, sid="s1"):
    apply_once(
        uow(),
        Event(
            "registry.service_approved",
            {
                "service_id": sid,
                "status": "active",
                "version": 2,
                "pact_version": 1,
                "commitments": [{"principle": "equality", "text": "Same fees for all."}],
            },
            "registry",
        ),
        handlers.on_registry_event,
    )


def _reports(uow, n, sid="s1", category="refused_access", at=None):
    events = [
        Event(
            "usager.report_submitted",
            {"service_id": sid, "category": category, "text": SECRET, "counter_id": "FS-35-0042"},
            "vox",
        )
        for _ in range(n)
    ]
    apply_batch(uow(), events, lambda u, evs: handlers.on_reports_submitted(u, evs, now=at))
    return events


def _outbox(engine, event_type):
    with engine.connect() as conn:
        return [
            json.loads(r.body)
            for r in conn.execute(
                select(orm.outbox.c.body).where(orm.outbox.c.event_type == event_type).order_by(orm.outbox.c.id)
            )
        ]


def test_the_threshold_opens_one_finding_linking_the_reports_and_the_journal_keeps_no_text(audit_db):
    uow, now = audit_db.uow, utcnow()
    _known(uow)
    _reports(uow, 2, at=now - timedelta(days=8))  # outside the window
    _reports(uow, 2, at=now - timedelta(days=1))
    assert handlers.open_threshold_findings(uow(), POLICY, now) == 0
    _reports(uow, 1, at=now)
    assert handlers.open_threshold_findings(uow(), POLICY, now) == 1
    assert handlers.open_threshold_findings(uow(), POLICY, now) == 0
    [finding] = handlers.service_findings(uow(), "s1")["findings"]
    assert finding["opened_by_threshold"] and len(finding["report_ids"]) == 3 and not finding["is_violation"]
    triaged = _outbox(audit_db.engine, "audit.report_triaged")
    assert {t["payload"]["finding_id"] for t in triaged} == {finding["id"]} and len(triaged) == 3
    handlers.chain_journal(uow())
    with audit_db.engine.connect() as conn:
        bodies = [r.body for r in conn.execute(select(orm.journal.c.body))]
        outbox = [r.body for r in conn.execute(select(orm.outbox.c.body))]
        about = {r.service_id for r in conn.execute(select(orm.journal.c.service_id))}
    assert len(bodies) == 5 and not any(SECRET in b for b in bodies + outbox) and about == {"s1"}
    assert handlers.verify_journal(uow()) == {"ok": True, "length": 5}


def test_replicas_sweeping_the_threshold_at_once_open_one_finding(pg_url):
    """Replicas run the sweep at the same moment: the service's compliance row is held locked
    while four start, so all four have found the reports due first."""
    database = spec("audit").open(pg_url)
    uow = database.uow
    _known(uow)
    _reports(uow, 3)
    blocker = database.engine.connect()
    tx = blocker.begin()
    blocker.execute(select(orm.compliance).with_for_update())
    replicas = [eventlet.spawn(handlers.open_threshold_findings, uow(), POLICY) for _ in range(4)]
    await_lock_waiters(database.engine, 4, "the four replicas waiting on the compliance row")  # they met
    tx.rollback()
    blocker.close()
    assert sum(r.wait() for r in replicas) == 1
    assert len(_outbox(database.engine, "audit.finding_recorded")) == 1
    database.close()


def test_triage_by_hand_dismisses_and_links_both_ways(audit_db):
    uow = audit_db.uow
    _known(uow)
    _known(uow, "s2")
    _reports(uow, 3)
    _reports(uow, 1, sid="s2")
    page = handlers.list_reports(
        uow(), ReportFilter(service_id="s1", counter_id="FS-35-0042", since=date.today(), until=date.today(), limit=2)
    )
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["text"] == SECRET
    first, second, third = [r["id"] for r in handlers.list_reports(uow(), ReportFilter(service_id="s1"))["items"]]
    assert handlers.dismiss_report(uow(), DismissReport(first, "Not about this service", "auditor/x"))["status"] == "dismissed"
    finding = handlers.record_finding(
        uow(), RecordFinding("s1", "equality", "minor", "Refusals", "auditor/x", report_ids=[second, third])
    )
    assert sorted(finding["report_ids"]) == sorted([second, third])
    listed = handlers.list_reports(uow(), ReportFilter(status="finding"))["items"]
    assert {r["finding_id"] for r in listed} == {finding["id"]}
    [other] = handlers.list_reports(uow(), ReportFilter(service_id="s2"))["items"]
    with pytest.raises(ReportOfAnotherService):  # nothing is written: the finding is not recorded either
        handlers.record_finding(uow(), RecordFinding("s1", "equality", "minor", "x", "auditor/x", report_ids=[other["id"]]))
    assert len(handlers.service_findings(uow(), "s1")["findings"]) == 1
    assert [t["payload"]["outcome"] for t in _outbox(audit_db.engine, "audit.report_triaged")] == [
        "dismissed",
        "finding",
        "finding",
    ]


def test_texts_past_the_retention_are_purged_and_the_reports_kept(audit_db):
    uow, now = audit_db.uow, utcnow()
    _known(uow)
    _reports(uow, 3, at=now - timedelta(days=31))
    _reports(uow, 1, at=now - timedelta(days=29))
    assert handlers.purge_report_texts(uow(), POLICY, now, batch=2) == 3
    assert handlers.purge_report_texts(uow(), POLICY, now) == 0
    items = handlers.list_reports(uow(), ReportFilter())["items"]
    assert [r["text"] for r in items] == [SECRET, None, None, None]
    assert all(r["purged_at"] for r in items[1:]) and {r["category"] for r in items} == {"refused_access"}


def test_the_service_s_answer_and_the_dossier_from_the_database(audit_db):
    uow = audit_db.uow
    _known(uow)
    _reports(uow, 2)
    finding = handlers.record_finding(uow(), RecordFinding("s1", "equality", "minor", "Refusals", "auditor/x"))
    handlers.answer_finding(
        uow(), AnswerFinding("s1", finding["id"], "Train the desk staff", date.today() + timedelta(days=10), "service/s1")
    )
    with uow() as u:  # audit's own events come back through spc.events to its journal lane
        events = [
            Event(r.event_type, json.loads(r.body)["payload"], "audit", event_id=r.event_id)
            for r in u.session.execute(select(orm.outbox.c.event_type, orm.outbox.c.body, orm.outbox.c.event_id))
        ]
    apply_batch(uow(), events, handlers.JOURNAL.apply, inbox="journal")
    handlers.chain_journal(uow())
    seen = handlers.dossier(uow(), "s1", Actor("auditor", "x"))
    assert seen["pact_versions"][0]["commitments"] == [{"principle": "equality", "text": "Same fees for all."}]
    assert seen["findings"][0]["answer"]["plan"] == "Train the desk staff"
    assert seen["reports"]["by_category"] == {"refused_access": 2} and len(seen["reports"]["items"]) == 2
    assert [e["event_type"] for e in seen["journal"]["entries"]] == [
        "usager.report_submitted",
        "usager.report_submitted",
        "audit.finding_recorded",
        "audit.finding_answered",
    ]
    assert "items" not in handlers.dossier(uow(), "s1", Actor("service", "s1"))["reports"]


def test_migration_0006_tells_which_service_each_journal_entry_already_written_concerns(db_url):
    engine = make_engine(db_url)
    migrations = spec("audit").migrations
    upgrade(engine, "audit", migrations, "0005_audit")
    body = json.dumps({"event_type": "registry.service_approved", "payload": {"service_id": "s9"}})
    with engine.begin() as conn:
        conn.execute(_old_journal_row(body))
    upgrade(engine, "audit", migrations)
    with engine.connect() as conn:
        assert conn.execute(select(orm.journal.c.service_id)).scalars().all() == ["s9"]
        assert conn.execute(select(func.count()).select_from(orm.reports)).scalar() == 0
    downgrade(engine, "audit", migrations, "0005_audit")
    upgrade(engine, "audit", migrations)
    engine.dispose()


def _old_journal_row(body):
    """A journal row as 0005 made it (no service_id column yet)."""
    from sqlalchemy import column, table

    old = table(
        "journal",
        column("seq"),
        column("event_id"),
        column("event_type"),
        column("body"),
        column("prev_hash"),
        column("hash"),
        column("recorded_at"),
    )
    return insert(old).values(
        seq=1,
        event_id="e1",
        event_type="registry.service_approved",
        body=body,
        prev_hash="0" * 64,
        hash="1" * 64,
        recorded_at=utcnow(),
    )
