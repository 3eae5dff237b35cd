"""Operators' logs (docs/operations.md): one JSON line per admin request, on `spc.http`, with the
request's correlation id, route and status, and never a token; one line per handled event, on
`spc.events`, with its id and what became of it."""

import json
import logging
import uuid

import requests

from spc.runtime.logs import JsonFormatter
from tests.support import PACT, TOKENS, envelope, metric, publish_inbound, wait_for


def json_lines(caplog, logger):
    """The records of `logger` as the JSON lines SPC_LOG_FORMAT=json writes."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


def test_an_admin_request_is_one_json_line_with_its_correlation_id_and_never_a_token(spc, caplog):
    caplog.set_level(logging.DEBUG)
    correlation = f"ops-{uuid.uuid4().hex[:12]}"
    resp = requests.post(
        f"http://127.0.0.1:{spc.ports['registry']}/services?department=35",
        json=PACT,
        timeout=15,
        headers={"Authorization": f"Bearer {TOKENS['registrar']}", "X-Correlation-Id": correlation},
    )
    assert resp.status_code == 201, resp.text
    refused = requests.get(
        f"http://127.0.0.1:{spc.ports['funding']}/programmes",
        timeout=15,
        headers={"Authorization": "Bearer an-unknown-secret-token"},
    )
    assert refused.status_code == 401

    lines = json_lines(caplog, "spc.http")
    mine = [line for line in lines if line.get("correlation_id") == correlation]
    assert len(mine) == 1, lines
    (line,) = mine
    assert line["level"] == "INFO" and line["service"] == "registry"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/services", 201)
    assert line["message"] == "POST /services 201"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["ts"].endswith("Z") and "T" in line["ts"]
    assert "department" not in json.dumps(line)  # no query value, no body
    assert PACT["name"] not in json.dumps(line)
    assert any(x["service"] == "funding" and x["status"] == 401 and x["route"] == "/programmes" for x in lines), lines
    # no token anywhere: not in a message, an argument or a field of any record
    formatter = JsonFormatter()
    logged = "".join(formatter.format(r) for r in caplog.records) + caplog.text
    for secret in (*TOKENS.values(), "an-unknown-secret-token"):
        assert secret not in logged, secret


def test_each_handled_event_is_one_line_with_its_id_and_outcome(spc, amqp_uri, caplog):
    caplog.set_level(logging.INFO)
    event = envelope(
        "counter.upserted",
        {"counter_id": "fs-logs", "name": "Maison France Services", "commune_insee": "35238", "department": "35", "address": ""},
    )
    event["correlation_id"] = f"ops-{uuid.uuid4().hex[:12]}"
    publish_inbound(amqp_uri, event, "counter.upserted", message_id=event["event_id"])
    wait_for("the counter", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
    publish_inbound(amqp_uri, event, "counter.upserted", message_id=event["event_id"])  # a copy
    bad = envelope("counter.upserted", {"counter_id": "fs-bad"})  # misses required fields
    publish_inbound(amqp_uri, bad, "counter.upserted", message_id=bad["event_id"])

    def lines_of(event_id):
        return [x for x in json_lines(caplog, "spc.events") if x["event_id"] == event_id]

    wait_for("both copies logged", lambda: len(lines_of(event["event_id"])) == 2)
    wait_for("the bad one logged", lambda: lines_of(bad["event_id"]))
    applied, duplicate = lines_of(event["event_id"])
    for line in (applied, duplicate):
        assert line["event_type"] == "counter.upserted" and line["service"] == "distribution"
        assert line["queue"] == "distribution.inbound" and line["level"] == "INFO"
        assert line["correlation_id"] == event["correlation_id"]
        assert line["duration_ms"] >= 0
        assert "Maison France Services" not in json.dumps(line)  # never the payload
    assert (applied["outcome"], duplicate["outcome"]) == ("applied", "duplicate")
    assert applied["message"] == "counter.upserted applied"
    (rejected,) = lines_of(bad["event_id"])
    assert rejected["outcome"] == "dead_lettered" and rejected["reason"] == "schema_error", rejected
    # and the time each took is in the handler histogram
    assert metric(spc, "distribution", "spc_distribution_handler_seconds_count", event_type="counter.upserted") == 2
