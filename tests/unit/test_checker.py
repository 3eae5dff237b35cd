"""The fault checker's own classification (tests/faults/checker.py): each way a run can go wrong
is reported, and a clean run is clean. The fault tests trust it, so it is checked here on
made-up histories and outcomes."""

from collections import Counter
from datetime import datetime, timezone

from tests.faults.checker import COUNTER, REPORT, VIOLATION, Observed, Op, Release, classify

S1, S2 = "svc-1", "svc-2"
_NOW = datetime(2026, 12, 5, tzinfo=timezone.utc)


def observed(violations=(), reports=(), counters=(), journal=None, payments=None, released=None, standing=None):
    journal = Counter(journal if journal is not None else [*violations, *reports])
    return Observed(
        effects={
            VIOLATION: {"journal": journal, "finding": Counter(violations)},
            REPORT: {"journal": journal, "report": Counter(reports)},
            COUNTER: {"distribution": Counter(counters)},
        },
        payments=Counter(payments or {}),
        released_events=Counter(released or payments or {}),
        standing=standing or {S1: ("suspended", "suspended", 0), S2: ("active", "active", 2)},
    )


HISTORY = [Op("v1", VIOLATION, S1, "ok"), Op("r1", REPORT, S2, "ok"), Op("c1", COUNTER, "fs-a", "ok")]


def test_a_run_where_everything_confirmed_was_applied_once_is_clean():
    report = classify(
        HISTORY,
        observed(["v1"], ["r1"], ["c1"], payments={"t1": 1}),
        releases=[Release("t1", S2, 200), Release("t2", S1, 409)],
        tranches=["t1", "t2"],
        untouched=[S2],
    )
    report.assert_clean()
    assert report.kinds[VIOLATION]["ok"] == report.kinds[REPORT]["ok"] == report.kinds[COUNTER]["ok"] == 1
    assert report.payments == Counter({1: 1, 0: 1})
    assert "v1" not in report.table()  # the table counts, the problems name


def test_a_confirmed_event_never_applied_is_lost():
    report = classify(HISTORY, observed(["v1"], [], ["c1"], journal=["v1", "r1"]))
    assert report.kinds[REPORT]["lost"] == 1 and any("lost: usager.report_submitted r1" in p for p in report.problems)


def test_an_effect_found_twice_is_a_duplicate():
    report = classify(HISTORY, observed(["v1"], ["r1"], ["c1"], journal=["v1", "v1", "r1"]))
    assert report.kinds[VIOLATION]["duplicated"] == 1 and report.problems


def test_an_unconfirmed_event_may_be_applied_or_not_but_never_half():
    history = [
        Op("v1", VIOLATION, S1, "ok"),
        Op("r1", REPORT, S2, "info"),
        Op("r2", REPORT, S2, "fail"),
        Op("r3", REPORT, S2, "info"),
    ]
    report = classify(history, observed(["v1"], ["r1"], journal=["v1", "r1", "r3"]))
    assert report.kinds[REPORT]["recovered"] == 1 and report.kinds[REPORT]["absent"] == 1
    assert report.kinds[REPORT]["lost"] == 1  # r3: journaled, never stored as a report
    assert [p for p in report.problems if p.startswith("half applied")]


def test_an_effect_nobody_sent_is_unexpected_unless_the_setup_sent_it():
    report = classify(HISTORY, observed(["v1", "v9"], ["r1"], ["c1", "c0"]), setup_events=["c0"])
    assert report.kinds[VIOLATION]["unexpected"] == 1 and report.kinds[COUNTER]["unexpected"] == 0


def test_a_tranche_paid_twice_or_a_release_answered_wrongly_is_reported():
    paid_twice = classify(HISTORY, observed(["v1"], ["r1"], ["c1"], payments={"t1": 2}))
    assert any("tranche t1 paid 2" in p for p in paid_twice.problems)
    told = classify(
        HISTORY,
        observed(["v1"], ["r1"], ["c1"], payments={"t2": 1}),
        releases=[Release("t1", S2, 200), Release("t2", S1, 409), Release("t3", S1, "info")],
    )
    assert len(told.problems) == 2  # t1 said released, never paid; t2 refused, paid; t3 unknown: either


def test_a_confirmed_violation_must_have_suspended_its_service_everywhere_and_no_other():
    standing = {S1: ("suspended", "suspended", 1), S2: ("suspended", "active", 2)}
    report = classify(HISTORY, observed(["v1"], ["r1"], ["c1"], standing=standing), untouched=[S2])
    assert len(report.problems) == 2  # S1 still listed somewhere; S2 suspended by nobody's violation


def test_the_journal_is_read_in_one_snapshot_a_copy_waiting_beside_its_chained_original_counted_once(tmp_path):
    """An event is recorded in journal_pending, then moved to journal by the chainer: reading one
    table after the other missed those moved in between (a false "lost" in a CI run)."""
    from sqlalchemy import create_engine, insert

    from spc.services.audit import orm as audit_orm
    from tests.faults.checker import journaled

    engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    audit_orm.metadata.create_all(engine, tables=[audit_orm.journal, audit_orm.journal_pending])
    common = {"event_type": "usager.report_submitted", "body": "{}", "service_id": S1}
    with engine.begin() as conn:
        conn.execute(
            insert(audit_orm.journal),
            [
                {**common, "seq": n, "event_id": event_id, "prev_hash": "0", "hash": "0", "recorded_at": _NOW}
                for n, event_id in ((1, "chained"), (2, "both"))
            ],
        )
        conn.execute(
            insert(audit_orm.journal_pending),
            [{**common, "event_id": event_id, "received_at": _NOW} for event_id in ("waiting", "both")],
        )
        assert Counter(r[0] for r in conn.execute(journaled())) == Counter(["chained", "both", "waiting"])
