"""Faults 5 and 11: a service's database refuses connections while it handles an event, and events
are published before their consumers' queues exist (fault 1, the broker restarting mid-stream, is
test_broker_restart.py, on a node of its own)."""

import subprocess

from tests.faults import story
from tests.servers import refuse_connections
from tests.support import metric, rabbit_queue, wait_for


def test_database_unreachable_holds_the_event_then_applies_it_once(fleet, amqp_uri, ledger, tap, db_urls):
    fleet.start()
    api = fleet.api
    inbound, sid = story.listed_and_funded(api, amqp_uri)

    refuse_connections(db_urls["funding"], True)
    try:
        inbound.append(story.violation(amqp_uri, sid))
        wait_for("registry suspends", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
        wait_for(
            "funding holds the suspension, unacked, while its database is away",
            lambda: metric(api, "funding", "spc_funding_database_waits_total") >= 2,
            timeout=30,
        )
        wait_for(
            "the management API to show it unacked",
            lambda: rabbit_queue(amqp_uri, "funding.events").get("messages_unacknowledged") == 1,
            timeout=30,
        )
        assert api.call("GET", "funding", "/health/ready", None).status_code == 503
        assert metric(api, "funding", "spc_funding_retries_total", queue="funding.events") == 0
        assert metric(api, "funding", "spc_funding_dead_lettered_total") == 0
    finally:
        refuse_connections(db_urls["funding"], False)

    story.wait_suspended_everywhere(api, sid)
    assert len([e for e in ledger.events_of("funding", "funding.funding_frozen") if e["payload"]["service_id"] == sid]) == 1
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0
    assert rabbit_queue(amqp_uri, "spc.events.dead").get("messages", 0) == 0


def test_events_published_before_their_consumers_exist_are_not_lost(fleet, amqp_uri, ledger):
    """A fresh broker: only the registry runs. Its events wait in queues it declared for the
    others, who start later and catch up."""
    fleet.start("registry")
    api = fleet.api
    sid = story.active_service(api)
    wait_for("the registry's events queued for funding", lambda: rabbit_queue(amqp_uri, "funding.events").get("messages") == 2)
    fleet.start("funding", "distribution", "audit")
    wait_for("funding catches up", lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    wait_for("distribution catches up", lambda: api.ok("GET", "distribution", f"/services/{sid}/listings")["service_id"] == sid)
    ledger.check(())


def test_an_external_event_before_spc_ever_started_is_refused_not_lost(amqp_uri, tmp_path):
    """Nothing declared yet: the reference publisher gets a clear refusal, never a silent loss."""
    import json
    import os
    import sys

    event = story.envelope("counter.closed", {"counter_id": "fs-a"})
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = subprocess.run(
        [sys.executable, "-m", "spc.cli", "publish", str(path)],
        env=dict(os.environ, AMQP_URI=amqp_uri),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "NOT_FOUND" in result.stderr and "spc.inbound" in result.stderr
