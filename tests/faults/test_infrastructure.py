"""Faults 1, 5 and 11: the broker restarts mid-stream, a service's database refuses connections
while it handles an event, and events are published before their consumers' queues exist."""
import subprocess
import threading
import time

import pytest

from tests.faults import story
from tests.support import metric, rabbit_queue, wait_for


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.timeout(300)
def test_broker_restart_mid_stream_loses_nothing(fleet, amqp_uri, ledger, tap):
    fleet.start()
    api = fleet.api
    inbound = story.counters(amqp_uri)
    registered, errors, stop = [], [], threading.Event()

    def stream():  # staff keep working through the outage: writes go to the outbox
        while not stop.is_set():
            try:
                registered.append(story.active_service(api))
            except Exception as exc:  # noqa: BLE001 (recorded and asserted below)
                errors.append(repr(exc))
            time.sleep(0.05)

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_for("a few services registered", lambda: len(registered) >= 5)
        _rabbitmqctl("stop_app")
        before_restart = len(registered)
        time.sleep(3)
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")
        wait_for("more services registered after the restart",
                 lambda: len(registered) >= before_restart + 5, timeout=60)
    finally:
        stop.set()
        writer.join()
    assert not errors, errors[:3]  # the HTTP side never needed the broker
    for name in ("registry", "funding", "distribution", "audit"):  # reconnected, no restart
        fleet.wait_ready(name, timeout=90)
        assert fleet.procs[name].poll() is None
    for sid in registered:
        story.wait_active_everywhere(api, sid, timeout=90)
    sid = registered[0]
    inbound.append(story.violation(amqp_uri, sid))
    story.wait_suspended_everywhere(api, sid)
    summary = ledger.check(inbound, tap, timeout=90)
    assert summary["lost"] == 0 and summary["events"] >= 3 * len(registered)  # submitted, approved, listed


def _refuse_connections(pg_admin, url, refuse):
    database = url.rsplit("/", 1)[1]
    pg_admin.run(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
    if refuse:
        pg_admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d",
                     d=database)


@pytest.fixture
def pg_admin():
    from tests.conftest import _pg_admin
    admin = _pg_admin()
    yield admin
    admin.close()


def test_database_unreachable_holds_the_event_then_applies_it_once(fleet, amqp_uri, ledger, tap,
                                                                   db_urls, pg_admin):
    fleet.start()
    api = fleet.api
    inbound, sid = story.listed_and_funded(api, amqp_uri)

    _refuse_connections(pg_admin, db_urls["funding"], True)
    try:
        inbound.append(story.violation(amqp_uri, sid))
        wait_for("registry suspends", lambda: api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")
        wait_for("funding holds the suspension, unacked, while its database is away",
                 lambda: metric(api, "funding", "spc_funding_database_waits_total") >= 2, timeout=30)
        wait_for("the management API to show it unacked", lambda: rabbit_queue(
            amqp_uri, "funding.events").get("messages_unacknowledged") == 1, timeout=30)
        assert api.call("GET", "funding", "/health/ready", None).status_code == 503
        assert metric(api, "funding", "spc_funding_retries_total", queue="funding.events") == 0
        assert metric(api, "funding", "spc_funding_dead_lettered_total") == 0
    finally:
        _refuse_connections(pg_admin, db_urls["funding"], False)

    story.wait_suspended_everywhere(api, sid)
    assert len([e for e in ledger.events_of("funding", "funding.funding_frozen")
                if e["payload"]["service_id"] == sid]) == 1
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0
    assert rabbit_queue(amqp_uri, "spc.events.dead").get("messages", 0) == 0


def test_events_published_before_their_consumers_exist_are_not_lost(fleet, amqp_uri, ledger):
    """A fresh broker: only the registry runs. Its events wait in queues it declared for the
    others, who start later and catch up."""
    fleet.start("registry")
    api = fleet.api
    sid = story.active_service(api)
    wait_for("the registry's events queued for funding",
             lambda: rabbit_queue(amqp_uri, "funding.events").get("messages") == 2)
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
    result = subprocess.run([sys.executable, "-m", "spc.cli", "publish", str(path)],
                            env=dict(os.environ, AMQP_URI=amqp_uri), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "NOT_FOUND" in result.stderr and "spc.inbound" in result.stderr
