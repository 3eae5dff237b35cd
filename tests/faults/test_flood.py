"""Issue 7, part 2: a violation never waits behind bulk traffic.

A burst of citizen reports and counter events, far more than SPC applies in the time, is
published before a handful of violations. Each violation must suspend its service in registry,
funding and distribution while the report backlog still stands (it overtook the backlog: it
travels on its own queue, with workers of its own, in every service on its path), and then the
backlog must drain with nothing lost. The latency is printed here, never asserted: the figure,
against its baseline, is `bench/`'s (bench/README.md).

The flood is sized for the broker, not for SPC: right after a burst, RabbitMQ's quorum-queue log
(one per node) is busy settling it, and a message published then may wait seconds in the broker
before any consumer sees it (seen on CI, 2 cores: 7-9 s for the first violation, audit's confirm
included; the next ones under a second). The backlog must outlast that stall, or the test proves
nothing."""

import json
import random
import time

from sqlalchemy import func, select

from bench.baseline import publish_confirmed

from spc.services.audit import orm as audit_orm
from tests.faults import story
from tests.faults.ledger import Ledger
from tests.support import Fleet, envelope, wait_for

REPORTS, COUNTERS, VIOLATIONS = 30000, 1000, 5


def _flood(amqp_uri, sids):
    """Publish the burst as fast as the broker takes it (confirms awaited many at a time: every
    message confirmed, so the ledger may count on all of them); returns the (event_id, type)."""
    events = [
        envelope("usager.report_submitted", {"service_id": sids[i % len(sids)], "category": "other", "text": f"report {i}"})
        for i in range(REPORTS)
    ]
    events += [
        envelope(
            "counter.upserted",
            {"counter_id": f"flood-{i}", "name": f"Espace {i}", "commune_insee": "35238", "department": "35", "address": ""},
        )
        for i in range(COUNTERS)
    ]
    random.shuffle(events)
    publish_confirmed(amqp_uri, "spc.inbound", [e["event_type"] for e in events], [json.dumps(e).encode() for e in events])
    return [(e["event_id"], e["event_type"]) for e in events]


def _reports_applied(ledger):
    with ledger.engines["audit"].connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_orm.reports)).scalar()


def _suspended_everywhere(api, sid):
    return (
        api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended"
        and api.ok("GET", "funding", f"/services/{sid}/funding")["frozen"]
        and story.listing_statuses(api, sid) == {"withdrawn"}
    )


def test_violations_overtake_a_flood_of_reports_and_counter_events_then_the_backlog_drains(amqp_uri, any_db_urls, tmp_path):
    fleet = Fleet(amqp_uri, any_db_urls, tmp_path)
    ledger = Ledger(any_db_urls)
    try:
        fleet.start()
        api = fleet.api
        inbound = story.counters(amqp_uri)
        sids = [story.active_service(api) for _ in range(VIOLATIONS)]
        for sid in sids:
            story.funded(api, sid, tranches=1)
            wait_for("listings", lambda sid=sid: story.listing_statuses(api, sid) == {"published"})
        inbound += _flood(amqp_uri, sids)
        latencies, applied = [], []
        for sid in sids:
            started = time.monotonic()
            inbound.append(story.violation(amqp_uri, sid))
            wait_for(f"{sid} suspended everywhere", lambda sid=sid: _suspended_everywhere(api, sid), timeout=120, interval=0.01)
            latencies.append(time.monotonic() - started)
            applied.append(_reports_applied(ledger))
        print(
            f"violation -> suspended everywhere, under the flood: {[round(x * 1000) for x in latencies]} ms; "
            f"reports applied at each suspension: {applied} of {REPORTS}"
        )
        assert applied[-1] < REPORTS, "the backlog drained first: the flood was too small to prove anything"
        summary = ledger.check(inbound, timeout=600)
        assert summary["lost"] == 0
        with ledger.engines["audit"].connect() as conn:
            assert conn.execute(select(func.count()).select_from(audit_orm.reports)).scalar() == REPORTS
    finally:
        fleet.close()
        ledger.close()
        print(fleet.logs())
