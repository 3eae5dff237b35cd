"""The urgent lanes in processes of their own (`spc run --lanes urgent` beside `--lanes bulk`,
docs/deploy.md): each process consumes only its lanes' queues, the story works across them,
and with every bulk process of audit down a violation still suspends the service everywhere
while the citizens' reports wait, untouched, for a bulk process to take them. The bulk processes
run at a lower CPU priority (SPC_NICE), as docs/deploy.md advises on one host."""

import os
import subprocess
import sys

import pytest

from sqlalchemy import func, select

from spc.services.audit import orm as audit_orm
from spc.shared.sql.persistence import make_engine
from tests.faults import story
from tests.support import envelope, publish_inbound, wait_for


def niceness(pid):
    """The process's nice value, from /proc/PID/stat (the 19th field; the name may hold spaces)."""
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def reports_stored(url):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(audit_orm.reports)).scalar()
    finally:
        engine.dispose()


def test_urgent_lanes_apart_suspend_on_a_violation_while_no_bulk_process_runs(amqp_uri, db_urls, tmp_path):
    from tests.support import Fleet

    (tmp_path / "urgent").mkdir()
    (tmp_path / "bulk").mkdir()
    urgent, bulk = Fleet(amqp_uri, db_urls, tmp_path / "urgent"), Fleet(amqp_uri, db_urls, tmp_path / "bulk")
    try:
        urgent.start(SPC_LANES="urgent")
        bulk.start(SPC_LANES="bulk", SPC_NICE="10")
        ours = os.getpriority(os.PRIO_PROCESS, 0)  # the urgent processes inherit it
        assert {niceness(p.pid) for p in bulk.procs.values()} == {max(10, ours)}
        assert {niceness(p.pid) for p in urgent.procs.values()} == {ours}
        story.counters(amqp_uri)  # bulk: distribution's counters
        sid = story.active_service(urgent.api)
        story.funded(bulk.api, sid)
        wait_for("listed", lambda: story.listing_statuses(urgent.api, sid) == {"published"})

        bulk.stop("audit")
        for i in range(20):
            report = envelope(
                "usager.report_submitted", {"service_id": sid, "category": "other", "text": f"Report {i}: closed on Monday"}
            )
            publish_inbound(amqp_uri, report, "usager.report_submitted", message_id=report["event_id"])
        story.violation(amqp_uri, sid)
        story.wait_suspended_everywhere(urgent.api, sid)  # audit's urgent process alone took it
        assert reports_stored(db_urls["audit"]) == 0  # nobody consumes the reports' queue meanwhile

        bulk.start("audit", SPC_LANES="bulk", SPC_NICE="10")
        wait_for("the reports applied by audit's bulk process", lambda: reports_stored(db_urls["audit"]) == 20)
    finally:
        urgent.close()
        bulk.close()
        print(urgent.logs()[-3000:], bulk.logs()[-3000:])


@pytest.mark.parametrize(
    "setting, said",
    [
        ({"SPC_LANES": "fast"}, "SPC_LANES must be one of all, urgent, bulk (got 'fast')"),
        ({"SPC_NICE": "20"}, "SPC_NICE must be from 0 to 19 (got 20)"),
        ({"SPC_NICE": "low"}, "SPC_NICE must be an integer (got 'low')"),
    ],
)
def test_a_wrong_lane_or_niceness_is_refused_in_one_line(amqp_uri, setting, said):
    out = subprocess.run(
        [sys.executable, "-m", "spc.cli", "run", "audit"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"AMQP_URI": amqp_uri, "PATH": "/usr/bin:/bin", **setting},
    )
    assert out.returncode == 2
    assert said in out.stderr
