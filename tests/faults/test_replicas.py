"""Scale-out: three replicas of every service, as processes, against one broker and one database
per service (PostgreSQL: SQLite is one process's). Replicas compete for each queue's messages; a
staff request may reach any replica. Every event is applied once, a tranche released once, the
journal chained once per event, and the newest decision still wins."""

import eventlet

from tests.faults import story
from tests.support import Fleet, wait_for

REPLICAS = 3


def test_three_replicas_of_each_service_apply_each_event_once_and_the_newest_decision_wins(
    amqp_uri, db_urls, tmp_path, ledger, tap
):
    fleets = []
    for i in range(REPLICAS):
        (tmp_path / f"r{i}").mkdir()
        fleets.append(Fleet(amqp_uri, db_urls, tmp_path / f"r{i}"))
    try:
        for fleet in fleets:
            fleet.start()
        apis = [fleet.api for fleet in fleets]
        inbound = story.counters(amqp_uri)
        sids = [story.active_service(apis[i % REPLICAS]) for i in range(6)]
        tranches = {sid: story.funded(apis[i % REPLICAS], sid) for i, sid in enumerate(sids)}
        for sid in sids:
            wait_for("listed", lambda s=sid: story.listing_statuses(apis[0], s) == {"published"})

        # the same tranche released at once through three replicas: one payment order
        first = tranches[sids[0]][0]
        answers = [eventlet.spawn(api.call, "POST", "funding", f"/tranches/{first}/release", "funding_officer") for api in apis]
        codes = sorted(answer.wait().status_code for answer in answers)
        assert codes == [200, 409, 409], codes

        for sid in sids[:3]:  # violations, each consumed by whichever audit replica takes it
            inbound.append(story.violation(amqp_uri, sid))
        for i, sid in enumerate(sids[:3]):
            story.wait_suspended_everywhere(apis[i % REPLICAS], sid, released=1 if sid == sids[0] else 0)
        finding = apis[1].ok("GET", "audit", f"/services/{sids[1]}/findings")["findings"][0]
        apis[2].ok("POST", "audit", f"/findings/{finding['id']}/resolve", "auditor", {"resolution": "fixed"})
        story.wait_active_everywhere(apis[0], sids[1])
        for sid in sids[3:]:  # untouched by the others' suspensions
            assert apis[2].ok("GET", "registry", f"/services/{sid}")["status"] == "active"

        summary = ledger.check(inbound, tap)
        assert summary["lost"] == 0 and summary["duplicate_payments"] == 0 and summary["payments"] == 1
        assert wait_for("journal", lambda: apis[0].ok("GET", "audit", "/journal/verify", "auditor")["ok"])
    finally:
        for fleet in fleets:
            fleet.close()
        print("\n".join(fleet.logs() for fleet in fleets)[-6000:])
