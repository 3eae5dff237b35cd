"""Citizen reports triaged, on the in-memory unit of work: listed, dismissed, made part of a
finding (linked both ways), the threshold's minor finding (timed with an injected now), texts
purged after the retention period; never a text in an event, the journal or a repr."""

import json
from datetime import datetime, timedelta

import pytest

from spc.services.audit import handlers
from spc.services.audit.domain.commands import DismissReport, RecordFinding, ReportFilter
from spc.services.audit.domain.reports import ReportPolicy
from spc.services.audit.settings import report_policy
from spc.shared.messaging.consumer import apply_batch
from spc.shared.core.errors import Conflict, NotFound
from tests.unit.fakes import FakeAuditUnitOfWork
from tests.unit.test_audit_handlers import known

T0 = datetime(2027, 3, 1, 9, 0)
POLICY = ReportPolicy(threshold=3, window_days=7, retention_days=90)
SECRET = "Mme Durand, 12 rue des Lilas: refused because of her son's disability."


@pytest.fixture
def uow():
    u = FakeAuditUnitOfWork()
    known(u, "s1")
    known(u, "s2")
    return u


def report(sid="s1", category="refused_access", text=SECRET, counter_id="FS-35-0042"):
    from tests.unit.fakes import wire

    return wire("usager.report_submitted", {"service_id": sid, "category": category, "text": text, "counter_id": counter_id})


def arrive(uow, *events, at=T0):
    """The reports arrive at `at` (the clock injected)."""
    return apply_batch(uow, list(events), lambda u, evs: handlers.on_reports_submitted(u, evs, now=at))


def ids(uow, **filters):
    return [r["id"] for r in handlers.list_reports(uow, ReportFilter(**filters))["items"]]


def triaged(uow):
    return [e for e in uow.outbox.events if e.event_type == "audit.report_triaged"]


def test_auditors_list_reports_newest_first_filtered_and_paged(uow):
    arrive(uow, report(), at=T0)
    arrive(uow, report(category="advertising", counter_id=None), at=T0 + timedelta(days=1))
    arrive(uow, report("s2"), at=T0 + timedelta(days=2))
    page = handlers.list_reports(uow, ReportFilter(service_id="s1", limit=1))
    assert (page["total"], len(page["items"]), page["items"][0]["category"]) == (2, 1, "advertising")
    assert page["items"][0]["text"] == SECRET and page["items"][0]["report_event_id"]
    assert len(ids(uow, category="refused_access")) == 2
    assert len(ids(uow, counter_id="FS-35-0042")) == 2
    assert len(ids(uow, since=(T0 + timedelta(days=1)).date())) == 2
    assert len(ids(uow, until=T0.date())) == 1
    assert len(ids(uow, status="new", offset=2)) == 1


def test_a_dismissed_report_keeps_its_reason_and_says_so_without_its_text(uow):
    arrive(uow, report())
    [report_id] = ids(uow)
    dismissed = handlers.dismiss_report(uow, DismissReport(report_id, "Duplicate of a closed case", "auditor/x"))
    assert (dismissed["status"], dismissed["dismissal_reason"], dismissed["triaged_by"]) == (
        "dismissed",
        "Duplicate of a closed case",
        "auditor/x",
    )
    [event] = triaged(uow)
    assert event.payload == {
        "report_id": report_id,
        "service_id": "s1",
        "category": "refused_access",
        "outcome": "dismissed",
        "finding_id": None,
        "counter_id": "FS-35-0042",
        "report_event_id": uow.reports.rows[0].source_event_id,
    }
    with pytest.raises(Conflict) as err:
        handlers.dismiss_report(uow, DismissReport(report_id, "again", "auditor/x"))
    assert err.value.code == "report_already_triaged"
    with pytest.raises(NotFound):
        handlers.dismiss_report(uow, DismissReport("nope", "x", "auditor/x"))


def test_a_finding_made_of_reports_lists_them_and_each_names_it(uow):
    arrive(uow, report(), report(category="unavailable"))
    report_ids = ids(uow)
    finding = handlers.record_finding(
        uow, RecordFinding("s1", "equality", "minor", "Access refused twice", "auditor/x", report_ids=report_ids + report_ids[:1])
    )
    assert sorted(finding["report_ids"]) == sorted(report_ids)
    assert {r.finding_id for r in uow.reports.rows} == {finding["id"]}
    assert [e.payload["outcome"] for e in triaged(uow)] == ["finding", "finding"]
    assert handlers.service_findings(uow, "s1")["findings"][0]["report_ids"] == finding["report_ids"]


@pytest.mark.parametrize(
    "case,code",
    [("another service", "report_of_another_service"), ("triaged already", "report_already_triaged"), ("unknown", "not_found")],
)
def test_a_finding_cannot_take_a_report_that_is_not_its_to_take(uow, case, code):
    arrive(uow, report("s2"), report())
    other, mine = sorted(uow.reports.rows, key=lambda r: r.service_id != "s2")
    named = {"another service": other.id, "triaged already": mine.id, "unknown": "nope"}[case]
    if case == "triaged already":
        handlers.dismiss_report(uow, DismissReport(mine.id, "spam", "auditor/x"))
    with pytest.raises((Conflict, NotFound)) as err:
        handlers.record_finding(uow, RecordFinding("s1", "equality", "minor", "x", "auditor/x", report_ids=[named]))
    assert err.value.code == code


def test_the_threshold_opens_one_minor_finding_with_no_deadline_within_the_window(uow):
    arrive(uow, report(), at=T0)
    arrive(uow, report(), at=T0 + timedelta(days=3))
    assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=3)) == 0  # 2 of 3
    arrive(uow, report(), at=T0 + timedelta(days=6))
    assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=6)) == 1
    [finding] = handlers.service_findings(uow, "s1")["findings"]
    assert (finding["severity"], finding["principle"], finding["is_violation"]) == ("minor", "equality", False)
    assert finding["opened_by_threshold"] and finding["remediation_deadline"] is None
    assert finding["reported_by"] == "audit/report-threshold" and SECRET not in finding["summary"]
    assert len(finding["report_ids"]) == 3
    assert "audit.violation_confirmed" not in uow.outbox.types()
    assert [e.payload["finding_id"] for e in triaged(uow)] == [finding["id"]] * 3


def test_reports_spread_wider_than_the_window_do_not_reach_the_threshold(uow):
    for day in (0, 4, 8, 12):  # never three within 7 days
        arrive(uow, report(), at=T0 + timedelta(days=day))
        assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=day)) == 0


def test_the_threshold_opens_once_per_window_not_once_per_extra_report(uow):
    for day in range(3):
        arrive(uow, report(), at=T0 + timedelta(days=day))
    assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=2)) == 1
    for day in (3, 3, 4, 5):  # enough for another, still within the first finding's window
        arrive(uow, report(), at=T0 + timedelta(days=day))
        assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=day)) == 0
    assert handlers.open_threshold_findings(uow, POLICY, T0 + timedelta(days=9, hours=1)) == 1  # a new window
    assert len(handlers.service_findings(uow, "s1")["findings"]) == 2


def test_the_threshold_counts_per_service_and_category_and_leaves_other_to_the_auditor(uow):
    arrive(
        uow,
        report(category="unavailable"),
        report(category="unavailable"),
        report("s2", "unavailable"),
        report(category="other"),
        report(category="other"),
        report(category="other"),
    )
    assert handlers.open_threshold_findings(uow, POLICY, T0) == 0


def test_dismissed_reports_do_not_count_towards_the_threshold(uow):
    arrive(uow, report(), report(), report())
    handlers.dismiss_report(uow, DismissReport(ids(uow)[0], "spam", "auditor/x"))
    assert handlers.open_threshold_findings(uow, POLICY, T0) == 0


def test_a_threshold_finding_never_escalates_by_itself(uow):
    arrive(uow, report(), report(), report())
    handlers.open_threshold_findings(uow, POLICY, T0)
    assert handlers.escalate_overdue(uow, T0 + timedelta(days=400)) == 0
    assert handlers.service_findings(uow, "s1")["open_violations"] == 0


def test_texts_are_purged_after_the_retention_period_and_the_rest_is_kept(uow):
    arrive(uow, report(), at=T0)
    arrive(uow, report(text="Closed again."), at=T0 + timedelta(days=30))
    assert handlers.purge_report_texts(uow, POLICY, T0 + timedelta(days=89)) == 0
    assert handlers.purge_report_texts(uow, POLICY, T0 + timedelta(days=91), batch=1) == 1
    old, new = sorted(uow.reports.rows, key=lambda r: r.created_at)
    assert (old.text, old.purged_at, old.category, old.status) == (None, T0 + timedelta(days=91), "refused_access", "new")
    assert new.text == "Closed again." and new.purged_at is None
    assert handlers.purge_report_texts(uow, POLICY, T0 + timedelta(days=91)) == 0  # once
    assert handlers.list_reports(uow, ReportFilter(until=T0.date()))["items"][0]["text"] is None


def test_the_citizen_s_text_is_in_no_event_no_journal_entry_and_no_repr(uow):
    arrive(uow, report(), report(), report())
    handlers.open_threshold_findings(uow, POLICY, T0)
    handlers.chain_journal(uow)
    assert uow.outbox.events and all(SECRET not in json.dumps(e.payload) for e in uow.outbox.events)
    bodies = [json.loads(e.body) for e in uow.journal.chained]
    assert [b["payload"]["text"] for b in bodies] == [None, None, None]  # the rest of the event is kept
    assert {b["payload"]["category"] for b in bodies} == {"refused_access"}
    assert handlers.verify_journal(uow)["ok"]
    assert SECRET not in repr(uow.reports.rows[0])


@pytest.mark.parametrize(
    "environ,expected",
    [
        ({}, ReportPolicy(5, 30, 365)),
        (
            {"SPC_REPORT_THRESHOLD": "10", "SPC_REPORT_WINDOW_DAYS": "14", "SPC_REPORT_RETENTION_DAYS": "180"},
            ReportPolicy(10, 14, 180),
        ),
        ({"SPC_REPORT_THRESHOLD": ""}, ReportPolicy(5, 30, 365)),
    ],
)
def test_the_report_policy_comes_from_the_environment(environ, expected):
    assert report_policy(environ) == expected


@pytest.mark.parametrize(
    "environ", [{"SPC_REPORT_THRESHOLD": "0"}, {"SPC_REPORT_WINDOW_DAYS": "a week"}, {"SPC_REPORT_RETENTION_DAYS": "-1"}]
)
def test_a_report_setting_that_is_not_a_whole_number_of_at_least_one_is_refused(environ):
    with pytest.raises(ValueError, match=next(iter(environ))):
        report_policy(environ)
