"""Fault 6: poison messages in a stream of good ones. Each lands in the dead-letter queue with
its reason, the consumers keep consuming, and `spc dlq replay` re-injects a message once its
cause is corrected."""

import json
import os
import subprocess
import sys
import uuid

from tests.faults import story
from tests.support import drain_queue, envelope, metric, publish_inbound, rabbit_queue, wait_for


def _counter(i):
    return envelope(
        "counter.upserted",
        {"counter_id": f"fs-{i}", "name": f"Espace {i}", "commune_insee": "35238", "department": "35", "address": ""},
    )


POISON = [  # (body, routing key, expected reason code)
    (b"{not json", "counter.upserted", "invalid_json"),
    (b"\xff\xfe\x00garbage", "counter.upserted", "invalid_json"),
    (json.dumps({"event_type": "counter.upserted"}).encode(), "counter.upserted", "schema_error:event_id"),
    (
        json.dumps(
            envelope(
                "counter.upserted",
                {"counter_id": "x", "name": "x", "commune_insee": "35238", "department": "35", "address": ""},
                version=9,
            )
        ).encode(),
        "counter.upserted",
        "unsupported_version",
    ),
    (
        json.dumps(
            envelope(
                "counter.upserted", {"counter_id": "x", "name": "x", "commune_insee": "3", "department": "35", "address": ""}
            )
        ).encode(),
        "counter.upserted",
        "schema_error:payload.commune_insee",
    ),
    (json.dumps(envelope("counter.exploded", {})).encode(), "counter.exploded", "unknown_event_type"),
    (
        json.dumps(
            envelope(
                "counter.upserted",
                {"counter_id": "big", "name": "x" * 70_000, "commune_insee": "35238", "department": "35", "address": ""},
            )
        ).encode(),
        "counter.upserted",
        "too_large",
    ),
]


def spc_cli(amqp_uri, *args):
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, AMQP_URI=amqp_uri),
        timeout=120,
    )


def test_poison_messages_are_dead_lettered_with_their_reason_and_the_stream_goes_on(fleet, amqp_uri, ledger):
    fleet.start("distribution", "audit", SPC_UNKNOWN_SERVICE_WINDOW="2")
    api, inbound = fleet.api, []
    for i in range(21):
        if i % 3 == 0 and POISON[i // 3 :]:
            body, key, _ = POISON[i // 3]
            publish_inbound(amqp_uri, body, key)
        event = _counter(i)
        publish_inbound(amqp_uri, event, "counter.upserted", message_id=event["event_id"])
        inbound.append((event["event_id"], "counter.upserted"))
    unknown = story.violation(amqp_uri, str(uuid.uuid4()))  # names no registered service
    wait_for("every good counter applied", lambda: api.ok("GET", "distribution", "/counters?limit=100")["total"] == 21)
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=20, expect=len(POISON) + 1)
    reasons = sorted(props.headers["x-spc-rejection"].split(" ", 1)[0].rstrip(":") for props, _ in dead)
    assert reasons == sorted([r for _, _, r in POISON] + ["unknown_service"]), reasons
    by_reason = {props.headers["x-spc-rejection"].split(" ", 1)[0].rstrip(":"): (props, body) for props, body in dead}
    assert by_reason["unknown_service"][0].message_id == unknown[0]
    assert by_reason["invalid_json"][0].headers["x-spc-queue"] == "distribution.inbound"
    assert metric(api, "distribution", "spc_distribution_dead_lettered_total", reason="invalid_json") == 2
    assert metric(api, "audit", "spc_audit_dead_lettered_total", reason="unknown_service") == 1
    for name in ("distribution", "audit"):
        assert fleet.procs[name].poll() is None
    ledger.check(inbound)


def test_dlq_replay_reinjects_a_message_once_its_cause_is_corrected(fleet, amqp_uri, ledger, tap):
    """A violation reaches audit before audit has heard of the (just registered) service, and
    audit lags longer than its window for unknown services (2 s here): the violation is
    dead-lettered `unknown_service`. Once audit has caught up, `spc dlq replay` re-injects it
    and the service is suspended everywhere."""
    fleet.start("registry", "funding", "distribution")
    fleet.start(
        "audit", SPC_UNKNOWN_SERVICE_WINDOW="2", SPC_FAILPOINTS="consumer.received.audit.standings=sleep:6@2"
    )  # audit lags
    api = fleet.api
    inbound = story.counters(amqp_uri)
    sid = story.active_service(api)
    event_id, _ = story.violation(amqp_uri, sid)
    wait_for(
        "the early violation dead-lettered",
        lambda: metric(api, "audit", "spc_audit_dead_lettered_total", reason="unknown_service") == 1,
    )
    listed = spc_cli(amqp_uri, "dlq", "list")
    assert listed.returncode == 0 and event_id in listed.stdout and "unknown_service" in listed.stdout
    wait_for("audit caught up", lambda: api.call("GET", "audit", f"/services/{sid}/findings").status_code == 200)
    wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"})

    other = story.violation(amqp_uri, str(uuid.uuid4()))  # stays unknown: must stay dead
    wait_for("second dead letter", lambda: metric(api, "audit", "spc_audit_dead_lettered_total", reason="unknown_service") == 2)
    replayed = spc_cli(amqp_uri, "dlq", "replay", "--message-id", event_id)
    assert replayed.returncode == 0 and "1 messages replayed" in replayed.stdout, replayed.stderr
    story.wait_suspended_everywhere(api, sid)
    wait_for("the other one still dead", lambda: rabbit_queue(amqp_uri, "spc.inbound.dead").get("messages") == 1)
    assert spc_cli(amqp_uri, "dlq", "replay").stdout.strip() == "1 messages replayed"
    wait_for(
        "it came back with its reason",
        lambda: metric(api, "audit", "spc_audit_dead_lettered_total", reason="unknown_service") == 3,
    )
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=20, expect=1)
    assert dead[0][0].message_id == other[0] and dead[0][0].headers["x-spc-rejection"].startswith("unknown_service")
    summary = ledger.check(inbound + [(event_id, "compliance.violation_reported")], tap)
    assert summary["lost"] == 0
