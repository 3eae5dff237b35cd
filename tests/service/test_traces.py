"""One trace across every hop (docs/operations.md, "Traces"), exported over OTLP/HTTP to a receiver
run here (tests/otlp_receiver.py), as to a collector:

- a violation published by an outside system with a `traceparent` ends in one trace: audit,
  registry, funding and distribution, each hop a `process` span under the `send` span of the event
  that caused it, under the span that wrote that event to the outbox, with their SQL statements;
- a message redelivered (its first try failed) makes a new span in the same trace;
- a message without trace headers starts a new trace;
- a staff request with the client's `traceparent` is a SERVER span under it, and the events it
  wrote are published, and journaled, in that trace;
- JSON log lines and OpenMetrics exemplars carry the trace id.

SPC_TRACE_PICTURE=docs writes the violation's trace as docs/trace-violation.svg (committed)."""

import json
import logging
import os
import secrets
import time
from pathlib import Path

import pytest
import requests

from spc.shared.observe import failpoints
from tests.otlp_receiver import Receiver, ancestry, waterfall_svg
from tests.service.test_core_flow import counter, grant, register_active
from tests.support import envelope, publish_inbound, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")  # the batch processor sends every 0.2 s
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def traceparent():
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


def test_a_violation_from_outside_is_one_trace_through_the_four_services(cluster_factory, amqp_uri, receiver, caplog):
    _, spc = cluster_factory(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    publish_inbound(amqp_uri, envelope("counter.upserted", counter("fs-1")), "counter.upserted")
    wait_for("the counter", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
    sid = register_active(spc)
    tranche = grant(spc, sid)["tranches"][0]["id"]

    # a staff request carrying its client's trace: the release is published in it
    staff_trace, staff_parent, header = traceparent()
    spc.ok("POST", "funding", f"/tranches/{tranche}/release", "funding_officer", headers={"traceparent": header})
    wait_for("the listing", lambda: len(spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]) == 1)
    request = wait_for(
        "the request's span",
        lambda: [s for s in receiver.trace(staff_trace) if s.kind == "SERVER" and s.service == "spc-funding"],
    )[0]
    assert request.parent_id == staff_parent and request.name == "POST /tranches/{tranche_id}/release"
    assert request.attributes["http.route"] == "/tranches/{tranche_id}/release"
    assert request.attributes["http.response.status_code"] == 200
    sent = wait_for(
        "the release's send span",
        lambda: [
            s
            for s in receiver.trace(staff_trace)
            if s.kind == "PRODUCER" and s.attributes.get("spc.event_type") == "funding.tranche_released"
        ],
    )[0]
    assert request in ancestry(receiver.trace(staff_trace), sent)
    # journaled by audit in a batch: the child of the release's send span, or linked to it (a
    # batch's span is the child of its first message, linked to the others)
    journaled = wait_for(
        "audit journaling the release",
        lambda: [
            s
            for s in receiver.spans
            if s.service == "spc-audit"
            and s.kind == "CONSUMER"
            and (s.parent_id == sent.span_id or (staff_trace, sent.span_id) in s.links)
        ],
    )[0]
    assert journaled.name == "process audit.events"

    # the violation, from an outside system, its first try in audit failing once
    outside_trace, outside_parent, header = traceparent()
    violation = envelope(
        "compliance.violation_reported",
        {
            "service_id": sid,
            "principle": "neutrality",
            "severity": "major",
            "summary": "Political leaflets",
            "reported_by": "inspection-35",
        },
    )
    failpoints.configure("handler.before_commit=raise@1")
    try:
        publish_inbound(amqp_uri, violation, "compliance.violation_reported", headers={"traceparent": header})
        wait_for(
            "the withdrawal",
            lambda: (
                {x["status"] for x in spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"withdrawn"}
            ),
        )
    finally:
        failpoints.configure("")

    def hop(service, event_type):
        return [
            s
            for s in receiver.trace(outside_trace)
            if s.service == f"spc-{service}"
            and s.kind == "CONSUMER"
            and s.attributes.get("spc.event_type") == event_type
            and s.attributes.get("spc.outcome") == "applied"
        ]

    withdrawal = wait_for(
        "distribution's span in the outside trace", lambda: hop("distribution", "registry.service_suspended"), timeout=15
    )[0]
    wait_for("funding's span in the outside trace", lambda: hop("funding", "registry.service_suspended"))

    def whole(spans):  # one tree, hanging from the outside system's span (the last spans exported)
        ids = {s.span_id for s in spans}
        return spans if all(s.parent_id in ids or s.parent_id == outside_parent for s in spans) else []

    spans = wait_for("the whole tree", lambda: whole(receiver.trace(outside_trace)))
    assert {s.service for s in spans} == {"spc-audit", "spc-registry", "spc-funding", "spc-distribution"}
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        if span.parent_id in by_id:
            assert by_id[span.parent_id].start <= span.start, (by_id[span.parent_id], span)

    chain = ancestry(spans, withdrawal)
    assert chain[-1].parent_id == outside_parent
    assert [(s.service, s.kind, s.attributes.get("spc.event_type")) for s in reversed(chain)] == [
        ("spc-audit", "CONSUMER", "compliance.violation_reported"),
        ("spc-audit", "PRODUCER", "audit.violation_confirmed"),
        ("spc-registry", "CONSUMER", "audit.violation_confirmed"),
        ("spc-registry", "PRODUCER", "registry.service_suspended"),
        ("spc-distribution", "CONSUMER", "registry.service_suspended"),
    ]
    first = chain[-1]
    assert first.name == "process audit.compliance" and first.attributes["messaging.system"] == "rabbitmq"
    assert first.attributes["messaging.message.id"] == violation["event_id"]
    assert first.attributes["messaging.destination.name"] == "spc.inbound"
    assert first.attributes["spc.service_id"] == sid
    assert chain[-2].name == "send spc.events" and chain[-2].attributes["messaging.operation.type"] == "send"
    # the database's statements, under the spans that sent them
    assert any(
        s.kind == "CLIENT"
        and s.parent_id == withdrawal.span_id
        and s.name == "update listings"
        and s.attributes["db.system.name"] == "sqlite"
        for s in spans
    )

    # the failed first try: a span of its own, in the same trace, under the same parent
    tries = [
        s
        for s in spans
        if s.service == "spc-audit"
        and s.kind == "CONSUMER"
        and s.attributes.get("spc.event_type") == "compliance.violation_reported"
    ]
    assert sorted(s.attributes["spc.outcome"] for s in tries) == ["applied", "retried"]
    assert {s.parent_id for s in tries} == {outside_parent}
    retried = next(s for s in tries if s.attributes["spc.outcome"] == "retried")
    assert retried.status == 2 and first.attributes.get("messaging.rabbitmq.redelivered") is True

    # a message without trace headers starts a trace of its own
    report = envelope(
        "usager.report_submitted",
        {"service_id": sid, "category": "refused_access", "text": "Porte fermée", "counter_id": "FS-35-0042"},
    )
    publish_inbound(amqp_uri, report, "usager.report_submitted")
    own = wait_for(
        "the report's span",
        lambda: [
            s for s in receiver.spans if s.kind == "CONSUMER" and s.attributes.get("messaging.message.id") == report["event_id"]
        ],
    )
    assert own[0].parent_id == "" and own[0].trace_id not in (outside_trace, staff_trace)

    # exemplars: the delivery histograms name a trace, for who asks OpenMetrics
    metrics = requests.get(
        f"http://127.0.0.1:{spc.ports['distribution']}/metrics",
        timeout=10,
        headers={"Accept": "application/openmetrics-text; version=1.0.0"},
    )
    assert metrics.headers["Content-Type"].startswith("application/openmetrics-text")
    exemplars = [
        line.split(" # ", 1)[1]
        for line in metrics.text.splitlines()
        if line.startswith("spc_distribution_event_delivery_seconds_bucket") and " # {" in line
    ]
    assert any(f'trace_id="{outside_trace}"' in exemplar for exemplar in exemplars), exemplars

    if os.environ.get("SPC_TRACE_PICTURE"):
        path = Path(os.environ["SPC_TRACE_PICTURE"]) / "trace-violation.svg"
        path.write_text(
            waterfall_svg(
                [s for s in spans if s.kind != "CLIENT" or s.attributes.get("db.operation.name") != "SELECT"],
                "One violation, published from outside with a traceparent: its trace",
            ),
            encoding="utf-8",
        )


def test_log_lines_written_in_a_traced_worker_carry_its_trace_and_span(cluster_factory, amqp_uri, receiver, capsys):
    """The JSON formatter (SPC_LOG_FORMAT=json) adds trace_id and span_id to a line written in a
    traced worker; the spc.events line of each handled event carries its span's."""
    from spc.runtime.logs import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.getLogger("spc.events").addHandler(handler)
    logging.getLogger("spc.events").setLevel(logging.INFO)
    try:
        _, spc = cluster_factory(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
        trace_id, _, header = traceparent()
        counter_event = envelope("counter.upserted", counter("fs-9"))
        publish_inbound(amqp_uri, counter_event, "counter.upserted", headers={"traceparent": header})
        wait_for("the counter", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
        time.sleep(0.3)
    finally:
        logging.getLogger("spc.events").removeHandler(handler)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("event_id") == counter_event["event_id"]]
    assert mine and mine[0]["outcome"] == "applied" and mine[0]["trace_id"] == trace_id and len(mine[0]["span_id"]) == 16
    span = wait_for("its span", lambda: [s for s in receiver.trace(trace_id) if s.kind == "CONSUMER"])[0]
    assert mine[0]["span_id"] == span.span_id
