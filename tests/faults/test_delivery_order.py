"""Faults 3 and 4: every event delivered twice, and decisions delivered out of order."""

import json
import threading
import uuid

import pika

from tests.faults import story
from tests.support import metric, pika_params, publish_inbound, rabbit_queue, wait_for


class Duplicator(threading.Thread):
    """Publishes a second copy of everything that appears on spc.events, as a misbehaving
    network or a publisher retrying after a lost confirm would."""

    def __init__(self, amqp_uri):
        super().__init__(daemon=True)
        self.amqp_uri, self.queue, self.copied = amqp_uri, f"test.dup.{uuid.uuid4().hex[:8]}", 0
        self._halt = threading.Event()
        conn = pika.BlockingConnection(pika_params(amqp_uri))
        channel = conn.channel()
        channel.exchange_declare("spc.events", "topic", durable=True)
        channel.queue_declare(self.queue, durable=True)
        channel.queue_bind(self.queue, "spc.events", "#")
        conn.close()

    def run(self):
        conn = pika.BlockingConnection(pika_params(self.amqp_uri))
        channel = conn.channel()
        channel.confirm_delivery()
        while not self._halt.is_set():
            method, props, body = channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                conn.sleep(0.02)
                continue
            if not (props.headers or {}).get("x-test-copy"):
                props.headers = dict(props.headers or {}, **{"x-test-copy": 1})
                channel.basic_publish("spc.events", method.routing_key, body, props)
                self.copied += 1
            channel.basic_ack(method.delivery_tag)
        conn.close()

    def stop(self):
        self._halt.set()
        self.join()


def test_every_event_delivered_twice_changes_nothing(fleet, amqp_uri, ledger, tap):
    duplicator = Duplicator(amqp_uri)
    duplicator.start()
    fleet.start()
    api = fleet.api
    try:
        inbound = story.counters(amqp_uri)
        sid = story.active_service(api)
        tranches = story.funded(api, sid)
        assert api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")["status"] == "released"
        assert api.call("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer").status_code == 409
        wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"})
        violation = story.envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "neutrality",
                "severity": "critical",
                "summary": "Partisan leaflets at the desk",
                "reported_by": "inspection-35",
            },
        )
        for _ in range(2):
            publish_inbound(amqp_uri, violation, "compliance.violation_reported", message_id=violation["event_id"])
        inbound.append((violation["event_id"], "compliance.violation_reported"))
        story.wait_suspended_everywhere(api, sid, released=1)
        findings = api.ok("GET", "audit", f"/services/{sid}/findings")["findings"]
        assert len(findings) == 1  # one finding for the violation delivered twice
        api.ok("POST", "audit", f"/findings/{findings[0]['id']}/resolve", "auditor", {"resolution": "removed"})
        story.wait_active_everywhere(api, sid)
        assert story.tranche_statuses(api, sid) == ["released", "scheduled", "scheduled"]
        summary = ledger.check(inbound, tap)
    finally:
        duplicator.stop()
    wire = [e["event_id"] for e in tap.events]
    assert duplicator.copied == summary["events"] and all(wire.count(i) == 2 for i in set(wire))
    assert summary["payments"] == 1 and summary["duplicate_payments"] == 0
    released = ledger.events_of("funding", "funding.tranche_released")
    assert [e["payload"]["tranche_id"] for e in released] == [tranches[0]]
    registry = api.ok("GET", "registry", f"/services/{sid}")
    assert (registry["status"], registry["version"], registry["open_violations"]) == ("active", 4, 0)
    for name in ("registry", "funding", "distribution", "audit"):
        assert metric(api, name, f"spc_{name}_duplicates_ignored_total") > 0, name
    assert api.ok("GET", "audit", "/journal/verify", "auditor") == {"ok": True, "length": summary["journal"]}


def _take_all(amqp_uri, queue):
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel, taken = conn.channel(), []
        while True:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((method.routing_key, props, body))
    finally:
        conn.close()


def _put_back(amqp_uri, exchange, messages):
    conn = pika.BlockingConnection(pika_params(amqp_uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for routing_key, props, body in messages:
            channel.basic_publish(exchange, routing_key, body, props)
    finally:
        conn.close()


def _reorder(amqp_uri, queue, expected, order, key):
    """Take the messages waiting in `queue` and put them back (through the default exchange,
    straight to that queue) in another order."""
    wait_for(f"{expected} messages in {queue}", lambda: rabbit_queue(amqp_uri, queue).get("messages") == expected)
    held = _take_all(amqp_uri, queue)
    assert [key(json.loads(body)["payload"]) for _, _, body in held] == sorted(order)
    by_key = {key(json.loads(body)["payload"]): (queue, props, body) for _, props, body in held}
    _put_back(amqp_uri, "", [by_key[k] for k in order])


def _resolve_open_violation(api, sid):
    finding = next(f for f in api.ok("GET", "audit", f"/services/{sid}/findings")["findings"] if f["status"] == "open")
    api.ok("POST", "audit", f"/findings/{finding['id']}/resolve", "auditor", {"resolution": "fixed"})


def _findings(api, sid, n):
    wait_for(f"{n} findings", lambda: len(api.ok("GET", "audit", f"/services/{sid}/findings")["findings"]) == n)


def test_newest_decision_wins_when_delivered_out_of_order(fleet, amqp_uri, ledger, tap):
    """The registry gets audit's decisions 1, 2, 3 as 3, 1, 2; funding and distribution get
    the standings suspended v3, reinstated v4, suspended v5 as v5, v3, v4. All end on the
    newest: suspended."""
    fleet.start()
    api = fleet.api
    inbound, sid = story.listed_and_funded(api, amqp_uri)
    for name in ("funding", "distribution", "registry"):
        fleet.stop(name)

    inbound.append(story.violation(amqp_uri, sid))  # audit decision 1: confirmed
    _findings(api, sid, 1)
    _resolve_open_violation(api, sid)  # decision 2: resolved
    inbound.append(story.violation(amqp_uri, sid))  # decision 3: confirmed
    _reorder(amqp_uri, "registry.events", 3, [3, 1, 2], key=lambda p: p["audit_version"])
    fleet.start("registry")
    wait_for(
        "registry applies decision 3 only",
        lambda: (
            (lambda s: (s["status"], s["version"], s["open_violations"]))(api.ok("GET", "registry", f"/services/{sid}"))
            == ("suspended", 3, 1)
        ),
    )

    _findings(api, sid, 2)
    _resolve_open_violation(api, sid)  # decision 4 -> reinstated v4
    wait_for("registry reinstates", lambda: api.ok("GET", "registry", f"/services/{sid}")["version"] == 4)
    inbound.append(story.violation(amqp_uri, sid))  # decision 5 -> suspended v5
    wait_for("registry suspends again", lambda: api.ok("GET", "registry", f"/services/{sid}")["version"] == 5)
    for queue in ("funding.events", "distribution.events"):
        _reorder(amqp_uri, queue, 3, [5, 3, 4], key=lambda p: p["version"])
    fleet.start("funding", "distribution")

    story.wait_suspended_everywhere(api, sid)
    for name in ("funding", "distribution"):
        mine = next(i for i in api.ok("GET", name, "/standings")["items"] if i["service_id"] == sid)
        assert (mine["status"], mine["version"]) == ("suspended", 5), (name, mine)
    assert story.tranche_statuses(api, sid) == ["frozen"] * 3
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0
