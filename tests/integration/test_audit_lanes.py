"""Audit's use cases behind the lanes, on SQLite and PostgreSQL: facts parked until their service
is known, expired after the window, the journal recorded by lanes and chained in batches, and
events applied in batches with their inbox."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from spc.services.audit import handlers as audit
from spc.services.audit import orm
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_batch, apply_once
from spc.shared.core.envelope import Event
from spc.runtime.fleet import spec


@pytest.fixture
def uow(db_url):
    database = spec("audit").open(db_url)
    yield database.uow
    database.close()


def _violation(sid, severity="major"):
    return Event(
        "compliance.violation_reported",
        {"service_id": sid, "principle": "neutrality", "severity": severity, "summary": "Leaflets", "reported_by": "inspection"},
        "inspection",
    )


def _report(sid):
    return Event("usager.report_submitted", {"service_id": sid, "category": "other", "text": "x"}, "vox")


def _approved(sid, version=2):
    return Event("registry.service_approved", {"service_id": sid, "status": "active", "version": version}, "registry")


def _rows(uow, table, *where):
    with uow() as u:
        return u.session.execute(select(table).where(*where)).all()


def _count(uow, table):
    with uow() as u:
        return u.session.execute(select(func.count()).select_from(table)).scalar()


def test_a_violation_before_its_service_is_known_is_parked_then_applied_with_the_registration(uow):
    event = _violation("s1")
    assert apply_batch(uow(), [event], audit.apply_facts) == 1
    assert [r.event_id for r in _rows(uow, orm.parked_facts)] == [str(event.event_id)]
    assert _rows(uow, orm.findings) == []
    apply_once(uow(), _approved("s1"), audit.on_registry_event)
    assert _rows(uow, orm.parked_facts) == []
    (finding,) = _rows(uow, orm.findings)
    assert (finding.service_id, finding.source_event_id, finding.is_violation) == ("s1", str(event.event_id), True)
    confirmed = _rows(uow, orm.outbox, orm.outbox.c.event_type == "audit.violation_confirmed")
    assert len(confirmed) == 1
    assert apply_batch(uow(), [event], audit.apply_facts) == 0  # a redelivery stays a duplicate


def test_a_report_about_a_known_service_is_stored_and_one_about_an_unknown_is_parked(uow):
    apply_once(uow(), _approved("s1"), audit.on_registry_event)
    apply_batch(uow(), [_report("s1")], audit.apply_facts)
    apply_batch(uow(), [_report("s2")], audit.apply_facts)
    assert [r.service_id for r in _rows(uow, orm.reports)] == ["s1"]
    assert [r.service_id for r in _rows(uow, orm.parked_facts)] == ["s2"]
    apply_once(uow(), _approved("s2"), audit.on_registry_event)
    assert sorted(r.service_id for r in _rows(uow, orm.reports)) == ["s1", "s2"]


def test_facts_past_the_window_are_dead_lettered_forgotten_by_the_inbox_and_their_placeholder_dropped(uow):
    ghost, early = _violation("ghost"), _report("late")
    apply_batch(uow(), [ghost], audit.apply_facts)
    apply_batch(uow(), [early], audit.apply_facts)
    sent = []
    assert audit.expire_parked(uow(), 60, lambda fact, why: sent.append((fact.event_id, why.code))) == 0
    assert (
        audit.expire_parked(
            uow(), 60, lambda fact, why: sent.append((fact.event_id, why.code, fact.queue)), now=utcnow() + timedelta(seconds=61)
        )
        == 2
    )
    assert sorted(sent) == sorted(
        [(str(ghost.event_id), "unknown_service", "audit.compliance"), (str(early.event_id), "unknown_service", "audit.reports")]
    )
    assert _count(uow, orm.parked_facts) == 0
    assert _count(uow, orm.compliance) == 0  # no trace of services that never appeared
    assert apply_batch(uow(), [ghost], audit.apply_facts) == 1  # a replay is applied (parked again)


def test_lanes_record_the_journal_and_the_chainer_extends_the_chain_in_order(uow):
    events = [_approved(f"s{i}") for i in range(7)]
    assert apply_batch(uow(), events + events[:2], audit.JOURNAL.apply, inbox="journal") == 7
    apply_batch(uow(), [_violation("s0")], audit.apply_facts)  # an inbound fact is journaled too
    assert _count(uow, orm.journal_pending) == 8
    assert audit.chain_journal(uow(), batch=3) == 8
    assert _count(uow, orm.journal_pending) == 0
    assert audit.verify_journal(uow()) == {"ok": True, "length": 8}
    chained = [r.event_id for r in _rows(uow, orm.journal)]
    assert chained[:7] == [str(e.event_id) for e in events]
    assert apply_batch(uow(), events[:3], audit.JOURNAL.apply, inbox="journal") == 0  # chained: seen
    body = _rows(uow, orm.journal, orm.journal.c.seq == 1)[0].body
    assert json.loads(body)["event_id"] == str(events[0].event_id)  # the whole envelope


def test_a_copy_recorded_while_its_original_was_chained_is_dropped_by_the_chainer(uow):
    """The race the every-event-twice fault found: a copy's recorder looks in the chain before the
    chainer commits the original, then finds no pending row left to conflict with, and records
    the copy. The chainer drops it (chaining it would break on the journal's unique event id, and
    every chaining after it with it)."""
    from sqlalchemy import insert

    events = [_approved(f"s{i}") for i in range(3)]
    apply_batch(uow(), events, audit.JOURNAL.apply, inbox="journal")
    assert audit.chain_journal(uow()) == 3
    first = _rows(uow, orm.journal, orm.journal.c.seq == 1)[0]
    with uow() as unit:  # the copy, as the race leaves it
        unit.session.execute(
            insert(orm.journal_pending).values(
                event_id=first.event_id, event_type=first.event_type, body=first.body, received_at=utcnow()
            )
        )
        unit.commit()
    later = _approved("s9")
    apply_batch(uow(), [later], audit.JOURNAL.apply, inbox="journal")
    assert audit.chain_journal(uow()) == 2  # taken from pending: the copy dropped, the later one chained
    assert _count(uow, orm.journal_pending) == 0
    assert [r.event_id for r in _rows(uow, orm.journal)] == [str(e.event_id) for e in [*events, later]]
    assert audit.verify_journal(uow()) == {"ok": True, "length": 4}


def test_a_batch_applies_each_new_event_once_and_counts_the_rest_as_duplicates(uow):
    apply_once(uow(), _approved("s1"), audit.on_registry_event)
    reports = [_report("s1") for _ in range(5)]
    assert apply_batch(uow(), reports[:2], audit.apply_facts) == 2
    assert apply_batch(uow(), reports + reports[2:3], audit.apply_facts) == 3
    assert _count(uow, orm.reports) == 5


def _amended(sid, version, text):
    return Event(
        "registry.pact_amended",
        {
            "service_id": sid,
            "status": "active",
            "version": version,
            "pact_version": version - 1,
            "commitments": [{"principle": "neutrality", "text": text}],
        },
        "registry",
    )


def test_a_finding_shows_the_commitment_text_of_the_newest_pact_stored(uow):
    apply_once(uow(), _amended("s1", 3, "No leaflets, posters or badges."), audit.on_registry_event)
    apply_once(uow(), _amended("s1", 2, "No leaflets."), audit.on_registry_event)  # older, late
    apply_batch(uow(), [_violation("s1")], audit.apply_facts)
    (finding,) = audit.service_findings(uow(), "s1")["findings"]
    assert finding["commitment"] == {"principle": "neutrality", "text": "No leaflets, posters or badges.", "pact_version": 2}
