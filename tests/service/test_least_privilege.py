"""Least privilege between SPC's own services (docs/security.md). With
deploy/rabbitmq/definitions.json loaded as written, the four services run as their own broker
users (`<SERVICE>_AMQP_URI`), confined to their own queues and event types, and the rule that
matters most still holds. Then an attacker holding one service's credentials tries each forgery:
the broker refuses every one, and a forged event slipped into a queue by the only other route
(the operator's replay through the default exchange) is dead-lettered `wrong_producer`, never
applied. Nothing changes in any database."""

import hashlib
import json
import sqlite3

import pika
import pytest

from spc.shared.core import events
from tests.servers import ConfinedVhost
from tests.service.test_core_flow import counter, grant, register_active
from tests.support import broker_refusal, drain_queue, envelope, publish_inbound, wait_for

SERVICES = events.SERVICES


@pytest.fixture
def confined():
    vhost = ConfinedVhost("spc_least")
    yield vhost
    vhost.close()


@pytest.fixture
def running(confined, cluster_factory):
    """SPC on the confined vhost, each service logged in as its own user."""
    _, spc = cluster_factory(AMQP_URI=confined.guest, **{f"{s.upper()}_AMQP_URI": confined.uri(f"spc-{s}") for s in SERVICES})
    return spc


attempt = broker_refusal


def publish(exchange, event_type, payload, producer):
    body = json.dumps(envelope(event_type, payload, producer=producer)).encode()
    return lambda ch: ch.basic_publish(
        exchange,
        event_type,
        body,
        pika.BasicProperties(delivery_mode=2, type=event_type, content_type="application/json"),
        mandatory=True,
    )


def databases(tmp_path):
    """A digest of every row of every table of each service's database."""
    digests = {}
    for service in SERVICES:
        db = sqlite3.connect(tmp_path / f"{service}.db")
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
                digests[f"{service}.{table}"] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
        finally:
            db.close()
    return digests


def settled(tmp_path, quiet=1.0):
    """The databases' digest once the journal and the outbox relays have caught up: the same
    twice, `quiet` seconds apart."""
    import time

    last = databases(tmp_path)
    for _ in range(30):
        time.sleep(quiet)
        now = databases(tmp_path)
        if now == last:
            return now
        last = now
    raise AssertionError("the databases never settled")


def test_a_service_holding_another_services_credentials_can_forge_nothing(confined, running, tmp_path):
    spc, uri = running, confined.uri
    # SPC works confined: counters from the directory, a service funded and listed, then a
    # violation from the inspection suspends its funding and its distribution
    directory, inspection = uri("ext-france-services-directory"), uri("ext-inspection")
    publish_inbound(directory, envelope("counter.upserted", counter("fs-1")), "counter.upserted")
    wait_for("the counter", lambda: spc.ok("GET", "distribution", "/counters")["total"] == 1)
    sid = register_active(spc)
    tranches = grant(spc, sid)["tranches"]
    spc.ok("POST", "funding", f"/tranches/{tranches[0]['id']}/release", "funding_officer")
    wait_for("the listing", lambda: len(spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]) == 1)
    publish_inbound(
        inspection,
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "neutrality",
                "severity": "major",
                "summary": "Political leaflets",
                "reported_by": "inspection-35",
            },
        ),
        "compliance.violation_reported",
    )
    wait_for("the freeze", lambda: spc.ok("GET", "funding", f"/services/{sid}/funding")["frozen"])
    wait_for(
        "the withdrawal",
        lambda: {x["status"] for x in spc.ok("GET", "distribution", f"/services/{sid}/listings")["listings"]} == {"withdrawn"},
    )
    wait_for("the journal", lambda: spc.ok("GET", "audit", "/journal/verify", "auditor")["ok"])
    finding = spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"][0]
    before = settled(tmp_path)

    reinstated = dict(events.entry("registry.service_reinstated").example, service_id=sid, version=99)
    released = {"tranche_id": tranches[1]["id"], "grant_id": "g", "service_id": sid, "amount_cents": 200_00, "currency": "EUR"}
    resolved = {
        "finding_id": finding["id"],
        "service_id": sid,
        "open_violations": 0,
        "audit_version": 9,
        "principle": "neutrality",
    }
    # each service's user publishing another service's event, as that service would sign it
    forgeries = [
        ("spc-funding", "spc.events", "registry.service_reinstated", reinstated, "registry"),
        ("spc-registry", "spc.events", "funding.tranche_released", released, "funding"),
        ("spc-distribution", "spc.events", "audit.violation_resolved", resolved, "audit"),
        ("spc-audit", "spc.events", "registry.service_approved", reinstated, "registry"),
        ("spc-registry", "spc.inbound", "counter.closed", {"counter_id": "fs-1"}, "registry"),
        ("spc-distribution", "spc.inbound", "compliance.violation_reported", {}, "distribution"),
        # into a queue by name, past the topic permissions
        ("spc-funding", "", "registry.events", resolved, "audit"),
    ]
    for user, exchange, event_type, payload, producer in forgeries:
        routing = event_type if exchange else "registry.events"
        resolved_body = json.dumps(envelope("audit.violation_resolved", payload)).encode()
        act = (
            publish(exchange, event_type, payload, producer)
            if exchange
            else (
                lambda ch, b=resolved_body, routing=routing: ch.basic_publish(
                    "", routing, b, pika.BasicProperties(delivery_mode=2)
                )
            )
        )
        assert attempt(uri(user), act) == 403, (user, exchange, event_type)
    # each reading another service's queue (the four), or its own queue bound to more
    for user, queue in (
        ("spc-funding", "audit.compliance"),
        ("spc-distribution", "funding.events"),
        ("spc-registry", "audit.reports"),
        ("spc-audit", "distribution.inbound"),
        ("spc-funding", "spc.inbound.dead"),
    ):
        assert attempt(uri(user), lambda ch, q=queue: ch.basic_get(q)) == 403, (user, queue)
    assert attempt(uri("spc-funding"), lambda ch: ch.queue_bind("funding.events", "spc.events", "audit.#")) == 403
    assert attempt(uri("spc-registry"), lambda ch: ch.queue_bind("registry.events", "spc.inbound", "#")) == 403
    # and configuring what is not its own
    assert attempt(uri("spc-funding"), lambda ch: ch.queue_delete("registry.events")) == 403
    assert attempt(uri("spc-funding"), lambda ch: ch.queue_purge("audit.compliance")) == 403
    assert (
        attempt(
            uri("spc-registry"),
            lambda ch: ch.queue_declare("audit.compliance", durable=True, arguments={"x-queue-type": "quorum"}),
        )
        == 403
    )
    assert attempt(uri("spc-audit"), lambda ch: ch.exchange_delete("spc.events")) == 403
    assert attempt(uri("spc-distribution"), lambda ch: ch.queue_declare("mine", durable=True)) == 403

    # the operator may put a dead letter back in its queue: a forged one is refused by the consumer
    operator_forgery = envelope("registry.service_reinstated", reinstated, producer="funding")
    publish_inbound(uri("spc-operator"), operator_forgery, "funding.events", exchange="")
    dead = drain_queue(confined.guest, "spc.events.dead", wait=30)
    assert [props.headers["x-spc-rejection"] for props, _ in dead] == [
        "wrong_producer: registry.service_reinstated is produced by registry, not 'funding'"
    ]
    # signed by funding's login, checked by the broker: `spc dlq replay` trusts it to funding's queue only
    assert [props.user_id for props, _ in dead] == [confined.users["spc-funding"]]

    # SPC is still running and confined; nothing was applied anywhere
    assert spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended"
    funding = spc.ok("GET", "funding", f"/services/{sid}/funding")
    assert funding["frozen"] and [t["status"] for t in funding["grants"][0]["tranches"]] == ["released", "frozen", "frozen"]
    assert spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"][0]["status"] == "open"
    assert spc.ok("GET", "distribution", "/counters")["total"] == 1
    after = settled(tmp_path)
    assert {t for t in before if before[t] != after.get(t)} == set()


def test_a_service_whose_user_may_not_create_a_missing_queue_says_so_and_waits_for_it(confined, cluster_factory, caplog):
    """Definitions not loaded (here: one queue deleted): funding may not create audit's queue. It
    says what is missing and what to do, stays not ready, and starts once the queue is there."""
    import eventlet
    import requests
    from kombu import Connection
    from spc.shared.messaging import topology
    from tests.servers import RABBIT_API
    from tests.support import Api, reserve_ports

    requests.delete(f"{RABBIT_API}/queues/{confined.vhost}/audit.compliance", timeout=10).raise_for_status()
    ports = reserve_ports(list(SERVICES))
    # the start returns once its queues are consumed: here, not before audit's queue exists
    starting = eventlet.spawn(cluster_factory, names=("funding",), ports=ports, AMQP_URI=confined.uri("spc-funding"))
    wait_for(
        "the error",
        lambda: any(
            "the queue 'audit.compliance' is missing" in r.getMessage() and "spc definitions --load" in r.getMessage()
            for r in caplog.records
        ),
    )
    spc = Api(ports)
    assert spc.call("GET", "funding", "/health/ready").status_code == 503
    with Connection(confined.uri("spc-audit")) as conn:
        topology.declare(conn.default_channel, "audit")
    starting.wait()
    wait_for("funding ready", lambda: spc.call("GET", "funding", "/health/ready").status_code == 200, timeout=40)
