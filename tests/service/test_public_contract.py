"""The event contract as other systems meet it, on the real broker: hostile publishers, versions,
and an outside consumer of SPC's events (docs/integrating.md)."""

import json
import uuid
from pathlib import Path

import jsonschema
import pika
import yaml

from tests.support import PACT, drain_queue, envelope, metric, pika_params, publish_inbound, wait_for

ASYNCAPI = yaml.safe_load((Path(__file__).resolve().parents[2] / "asyncapi.yaml").read_text())


def _raw_publish(amqp_uri, routing_key, body, properties=None):
    """Publish with no help: whatever body and properties a careless system would send."""
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish("spc.inbound", routing_key, body, properties or pika.BasicProperties())
    finally:
        conn.close()


def _service(spc):
    sid = spc.ok("POST", "registry", "/services", "registrar", PACT)["id"]
    spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    wait_for("audit knows it", lambda: spc.call("GET", "audit", f"/services/{sid}/findings").status_code == 200)
    return sid


def _violation(sid, **overrides):
    payload = {
        "service_id": sid,
        "principle": "transparency",
        "severity": "minor",
        "summary": "Accounts not published",
        "reported_by": "inspection-35",
    }
    payload.update(overrides)
    return payload


def _reasons(amqp_uri, n):
    dead = drain_queue(amqp_uri, "spc.inbound.dead", wait=20, expect=n)
    return sorted(props.headers["x-spc-rejection"].split(": ", 1)[0] for props, _ in dead)  # "code: message"


def test_a_hostile_publisher_is_dead_lettered_with_reasons_and_never_stops_the_consumer(spc, amqp_uri):
    sid = _service(spc)
    key = "compliance.violation_reported"
    _raw_publish(amqp_uri, key, json.dumps(envelope(key, _violation(sid, severity=5))).encode())
    _raw_publish(amqp_uri, key, json.dumps(envelope(key, _violation(12345))).encode())
    _raw_publish(amqp_uri, key, json.dumps(envelope(key, _violation(sid, summary="x" * 70_000))).encode())
    _raw_publish(amqp_uri, key, "é".encode("latin-1") + b'{"event_id": 1}')
    _raw_publish(amqp_uri, key, b"[1, 2, 3]")
    _raw_publish(amqp_uri, key, json.dumps(dict(envelope(key, _violation(sid)), event_id="not-a-uuid")).encode())
    _raw_publish(
        amqp_uri,
        key,
        json.dumps(
            envelope("usager.report_submitted", {"service_id": sid, "category": "other", "text": "routing key lies"})
        ).encode(),
    )
    assert _reasons(amqp_uri, 7) == sorted(
        [
            "schema_error:payload.severity",
            "schema_error:payload.service_id",
            "too_large",
            "invalid_json",
            "invalid_json",
            "schema_error:event_id",
            "schema_error:event_type",
        ]
    )
    assert metric(spc, "audit", "spc_audit_dead_lettered_total", reason="invalid_json") == 2
    assert metric(spc, "audit", "spc_audit_dead_lettered_total", reason="schema_error") == 4
    assert metric(spc, "audit", "spc_audit_dead_lettered_total", reason="too_large") == 1

    # no AMQP properties at all (no content type, no message_id, not persistent): the body is the
    # contract, so the event is accepted
    bare = envelope(key, _violation(sid))
    _raw_publish(amqp_uri, key, json.dumps(bare).encode())
    wait_for("the bare event applied", lambda: len(spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"]) == 1)
    # the same event_id again, with other content: a replay, ignored and counted
    _raw_publish(amqp_uri, key, json.dumps(dict(bare, payload=_violation(sid, severity="critical"))).encode())
    wait_for(
        "the replay counted as a duplicate",
        lambda: metric(spc, "audit", "spc_audit_duplicates_ignored_total", event_type=key) == 1,
    )
    findings = spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"]
    assert [f["severity"] for f in findings] == ["minor"]
    assert spc.ok("GET", "registry", f"/services/{sid}")["status"] == "active"


def test_versions_unknown_ones_are_dead_lettered_optional_fields_are_compatible(spc, amqp_uri):
    sid = _service(spc)
    key = "compliance.violation_reported"
    publish_inbound(amqp_uri, envelope(key, _violation(sid), version=2), key)
    assert _reasons(amqp_uri, 1) == ["unsupported_version"]
    assert metric(spc, "audit", "spc_audit_dead_lettered_total", reason="unsupported_version") == 1
    old = envelope(key, _violation(sid))  # an old publisher: no evidence_url (optional since v1)
    assert "evidence_url" not in old["payload"]
    publish_inbound(amqp_uri, old, key)
    newer = envelope(
        key, _violation(sid, evidence_url="https://inspection.example.org/r/1", inspector_badge="B-35-0042")
    )  # a field added later, optional
    newer["trace_parent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # envelope extension
    publish_inbound(amqp_uri, newer, key)
    wait_for("both accepted", lambda: len(spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"]) == 2)
    assert drain_queue(amqp_uri, "spc.inbound.dead", wait=1, expect=1) == []


def test_an_outside_consumer_receives_payment_orders_exactly_as_documented(spc, amqp_uri):
    """What docs/integrating.md tells a payment system: declare your own durable queue, bind it to
    spc.events with the routing keys you want, ack after processing, deduplicate on event_id."""
    queue = f"ext.payments.{uuid.uuid4().hex[:6]}"
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    channel = conn.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, "spc.events", "funding.tranche_released")
    conn.close()

    sid = _service(spc)
    prog = spc.ok("POST", "funding", "/programmes", "funding_officer", {"name": "P", "budget_cents": 100_000})
    wait_for("funding sees it", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "active")
    grant = spc.ok(
        "POST",
        "funding",
        "/grants",
        "funding_officer",
        {
            "programme_id": prog["id"],
            "service_id": sid,
            "tranches": [
                {"amount_cents": 40_000, "due_date": "2099-01-01", "milestone": "start"},  # not due yet
                {"amount_cents": 60_000, "due_date": "2099-06-01", "milestone": "end"},
            ],
        },
    )
    tranche = grant["tranches"][0]
    early = spc.call("POST", "funding", f"/tranches/{tranche['id']}/release", "funding_officer")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "release_before_due_date")
    spc.ok(
        "POST",
        "funding",
        f"/tranches/{tranche['id']}/release",
        "funding_officer",
        {"evidence": "CR-AG-2026-11", "reason": "opening advanced"},
    )

    ((props, body),) = drain_queue(amqp_uri, queue, wait=20, expect=1)
    message = json.loads(body)
    spec = ASYNCAPI["components"]["messages"]["funding.tranche_released.v1"]["payload"]
    schema = dict(spec, components=ASYNCAPI["components"])
    schema["properties"] = dict(spec["properties"], payload={"$ref": "#/components/schemas/funding.tranche_released.v1"})
    jsonschema.validate(message, schema)
    assert (props.content_type, props.delivery_mode, props.message_id, props.type) == (
        "application/json",
        2,
        message["event_id"],
        "funding.tranche_released",
    )
    released_at = message["payload"].pop("released_at")
    assert released_at.endswith("+00:00")
    assert message["payload"] == {
        "tranche_id": tranche["id"],
        "grant_id": grant["id"],
        "service_id": sid,
        "amount_cents": 40_000,
        "released_by": "funding_officer/tests",
        "due_date": "2099-01-01",
        "evidence": "CR-AG-2026-11",
        "reason": "opening advanced",
        "approved_by": None,
    }  # (1.3: one person, below SPC_DUAL_CONTROL_CENTS)
    assert drain_queue(amqp_uri, queue, wait=2, expect=1) == []  # nothing else: only what it bound
