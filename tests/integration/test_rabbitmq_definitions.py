"""deploy/rabbitmq/definitions.json: the broker's topology and its users, as code. Loaded into a
fresh vhost of the real RabbitMQ, it must let each service declare and publish, let each external
system publish its own event types to spc.inbound and nothing else, and let an outside consumer
bind its own queue to the payment orders only."""

import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pika
import pytest
import requests
from kombu import Connection

from spc.generate.definitions import render
from spc.shared.core import events
from spc.shared.messaging import topology
from tests.conftest import AMQP_BASE, RABBIT_API
from tests.servers import ConfinedVhost
from tests.support import broker_refusal, envelope, wait_for

DEFINITIONS_PATH = Path(__file__).resolve().parents[2] / "deploy/rabbitmq/definitions.json"
DEFINITIONS = json.loads(DEFINITIONS_PATH.read_text())


def test_the_committed_definitions_are_what_the_code_generates():
    assert DEFINITIONS_PATH.read_text() == render(), (
        "deploy/rabbitmq/definitions.json is stale: run `spc definitions > deploy/rabbitmq/definitions.json`"
    )


def test_each_external_system_may_publish_exactly_the_types_the_catalogue_names():
    topics = {(t["user"], t["exchange"]): t for t in DEFINITIONS["topic_permissions"]}
    for entry in events.event_types():
        for user in entry.publishers:
            assert re.fullmatch(topics[(user, "spc.inbound")]["write"], entry.name)
        for user in entry.readers:
            assert re.fullmatch(topics[(user, "spc.events")]["read"], entry.name)
    assert not re.fullmatch(topics[("ext-inspection", "spc.inbound")]["write"], "counter.upserted")


def test_the_definitions_declare_exactly_the_topology_the_services_declare():
    queues = {q["name"]: q["arguments"] for q in DEFINITIONS["queues"]}
    assert queues == {q.name: dict(q.queue_arguments or {}) for q in topology.CONSUMER_QUEUES + topology.DEAD_LETTER_QUEUES}
    exchanges = {e["name"]: (e["type"], e["arguments"], e["durable"]) for e in DEFINITIONS["exchanges"]}
    assert exchanges == {e.name: (e.type, dict(e.arguments or {}), True) for e in topology.EXCHANGES}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in DEFINITIONS["bindings"]}
    expected = {(b.exchange.name, q.name, b.routing_key) for q in topology.CONSUMER_QUEUES for b in q.bindings}
    expected |= {(q.exchange.name, q.name, q.routing_key) for q in topology.DEAD_LETTER_QUEUES}
    assert bindings == expected
    assert all(q["durable"] for q in DEFINITIONS["queues"])


@pytest.fixture
def broker():
    """The definitions loaded under a fresh vhost and fresh user names; passwords set."""
    confined = ConfinedVhost()
    yield confined.uri, confined.vhost
    confined.close()


def _channel(uri):
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    channel = conn.channel()
    channel.confirm_delivery()
    return conn, channel


_refused = broker_refusal


def _queue_depth(vhost, queue, expect=None):
    """The queue's depth by the management API (its figures lag by seconds: with `expect`,
    waits up to 15 s for that figure)."""
    import time

    depth = None
    for _ in range(75):
        resp = requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/{queue}", timeout=10).json()
        depth = resp.get("messages")
        if depth is not None and (expect is None or depth == expect):
            return depth
        time.sleep(0.2)
    return depth


def _publish(exchange, key, body=None):
    body = body or json.dumps(envelope(key, {})).encode()

    def act(channel):
        channel.basic_publish(exchange, key, body, pika.BasicProperties(delivery_mode=2, type=key), mandatory=True)

    return act


def test_each_service_user_declares_its_own_queues_and_publishes_its_own_event_types(broker):
    uri, vhost = broker
    for n, service in enumerate(events.SERVICES, 1):
        with Connection(uri(f"spc-{service}")) as conn:
            topology.declare(conn.default_channel, service)  # same arguments: no PRECONDITION_FAILED
        produced = next(e.name for e in events.event_types() if e.producer == service)
        # confirmed by the broker and routed (mandatory: an unroutable message would come back)
        assert _refused(uri(f"spc-{service}"), _publish("spc.events", produced)) is None
        assert _queue_depth(vhost, "audit.events", expect=n) == n  # the journal lane holds each


def test_an_external_system_may_publish_its_own_event_types_and_nothing_else(broker):
    uri, vhost = broker
    inspection = uri("ext-inspection")
    assert _refused(inspection, _publish("spc.inbound", "compliance.violation_reported")) is None
    assert _queue_depth(vhost, "audit.compliance", 1) == 1
    assert _refused(inspection, _publish("spc.inbound", "counter.closed")) == 403
    assert _refused(inspection, _publish("spc.inbound", "usager.report_submitted")) == 403
    assert _refused(inspection, _publish("spc.events", "funding.tranche_released")) == 403
    assert _refused(inspection, _publish("", "audit.compliance")) == 403  # default exchange
    assert _refused(inspection, lambda ch: ch.basic_get("audit.compliance")) == 403
    assert _refused(inspection, lambda ch: ch.basic_consume("spc.inbound.dead", lambda *a: None)) == 403
    assert _refused(inspection, lambda ch: ch.queue_declare("mine", durable=True)) == 403
    assert _refused(inspection, lambda ch: ch.exchange_declare("mine", "topic")) == 403
    assert _refused(inspection, lambda ch: ch.queue_delete("audit.compliance")) == 403
    assert _refused(inspection, lambda ch: ch.exchange_delete("spc.inbound")) == 403
    assert _refused(inspection, lambda ch: ch.queue_purge("audit.compliance")) == 403
    assert _queue_depth(vhost, "audit.compliance", 1) == 1
    directory = uri("ext-france-services-directory")
    assert _refused(directory, _publish("spc.inbound", "counter.upserted")) is None
    assert _refused(directory, _publish("spc.inbound", "compliance.violation_reported")) == 403


def _bound_inbound_queues(vhost, max_length):
    """Lower the inbound queues' bound (the definitions' policy, same name) to reach it in a test."""
    import time

    policy = next(p for p in DEFINITIONS["policies"] if p["name"] == "spc-inbound-bounds")
    requests.put(
        f"{RABBIT_API}/policies/{quote(vhost, safe='')}/{policy['name']}",
        timeout=10,
        json={
            "pattern": policy["pattern"],
            "apply-to": "queues",
            "priority": policy["priority"],
            "definition": dict(policy["definition"], **{"max-length": max_length}),
        },
    ).raise_for_status()
    for _ in range(50):
        queue = requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/audit.reports", timeout=10).json()
        if queue.get("effective_policy_definition", {}).get("max-length") == max_length:
            return
        time.sleep(0.2)
    raise AssertionError("the policy was not applied")


def test_a_flooding_publisher_is_refused_past_its_bound_and_delays_only_its_own_messages(broker):
    """Back-pressure: past the bound of its queue, a publisher's messages are refused in its
    publisher confirms (nack), nothing is dropped silently; other publishers' queues go on."""
    uri, vhost = broker
    _bound_inbound_queues(vhost, 5)
    conn, channel = _channel(uri("ext-vox-usagers"))
    outcomes = []
    for _ in range(12):
        try:
            _publish("spc.inbound", "usager.report_submitted")(channel)
            outcomes.append("confirmed")
        except pika.exceptions.NackError:
            outcomes.append("refused")
    conn.close()
    confirmed = outcomes.count("confirmed")  # a quorum queue may take one past its bound
    assert confirmed in (5, 6) and outcomes == ["confirmed"] * confirmed + ["refused"] * (12 - confirmed)
    assert _queue_depth(vhost, "audit.reports", confirmed) == confirmed  # what was confirmed is there
    assert _refused(uri("ext-inspection"), _publish("spc.inbound", "compliance.violation_reported")) is None
    assert _queue_depth(vhost, "audit.compliance", 1) == 1


def test_an_external_publisher_may_hold_only_so_many_connections(broker):
    uri, _ = broker
    limit = next(u for u in DEFINITIONS["users"] if u["name"] == "ext-vox-usagers")["limits"]["max-connections"]
    held = [pika.BlockingConnection(pika.URLParameters(uri("ext-vox-usagers"))) for _ in range(limit)]
    try:
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            pika.BlockingConnection(pika.URLParameters(uri("ext-vox-usagers")))
        pika.BlockingConnection(pika.URLParameters(uri("ext-inspection"))).close()  # others go on
    finally:
        for conn in held:
            conn.close()


def test_an_outside_consumer_binds_its_own_queue_to_payment_orders_only(broker):
    uri, _ = broker
    payments = uri("ext-payments")

    def bind(key):
        def act(channel):
            channel.queue_declare("ext.payments.orders", durable=True)
            channel.queue_bind("ext.payments.orders", "spc.events", key)

        return act

    assert _refused(payments, bind("funding.tranche_released")) is None
    assert _refused(payments, bind("#")) == 403
    assert _refused(payments, bind("registry.service_suspended")) == 403
    assert _refused(payments, _publish("spc.events", "funding.tranche_released")) == 403
    assert _refused(payments, lambda ch: ch.basic_get("funding.events")) == 403
    with Connection(uri("spc-funding")) as conn:
        conn.Producer().publish(
            b'{"x": 1}', exchange="spc.events", routing_key="funding.tranche_released", delivery_mode=2, retry=False
        )
    conn, channel = _channel(payments)
    try:
        import time

        for _ in range(50):
            method, _, body = channel.basic_get("ext.payments.orders", auto_ack=True)
            if method:
                break
            time.sleep(0.1)
        assert body == b'{"x": 1}'
    finally:
        conn.close()


def test_the_operator_reads_and_replays_dead_letters_only(broker):
    uri, _ = broker
    operator = uri("spc-operator")
    assert _refused(operator, lambda ch: ch.basic_get("spc.inbound.dead")) is None
    assert _refused(operator, lambda ch: ch.basic_get("funding.events")) == 403
    assert _refused(operator, _publish("spc.events", "funding.tranche_released")) == 403


def test_spc_publish_says_clearly_when_the_broker_refuses_the_event_type(broker, tmp_path):
    import os
    import subprocess
    import sys

    uri, _ = broker
    path = tmp_path / "closed.json"
    path.write_text(json.dumps(envelope("counter.closed", {"counter_id": "FS-35-0042"})))
    run = lambda user: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "spc.cli", "publish", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, AMQP_URI=uri(user)),
    )
    refused = run("ext-inspection")
    assert refused.returncode == 2
    assert "the broker refused the event: 403 ACCESS_REFUSED" in refused.stderr, refused.stderr
    accepted = run("ext-france-services-directory")
    assert accepted.returncode == 0 and "confirmed by the broker" in accepted.stdout, accepted.stderr


def test_the_brokers_delivery_limit_dead_letters_a_message_that_keeps_coming_back(amqp_uri):
    """The backstop of docs/reliability.md: a message returned to a consumer queue more than
    DELIVERY_LIMIT times (a consumer that dies on it each time never gets to dead-letter it)
    ends in the dead-letter queue, not dropped."""
    import time

    with Connection(amqp_uri) as conn:
        topology.declare_all(conn.default_channel)
    conn, channel = _channel(amqp_uri)
    try:
        channel.basic_publish("", "funding.events", b'{"poison": true}', pika.BasicProperties(delivery_mode=2, message_id="m-1"))
        returned = 0
        for _ in range(200):
            method, _, _ = channel.basic_get("funding.events")
            if method is None:
                if returned > topology.DELIVERY_LIMIT:
                    break
                time.sleep(0.05)
                continue
            channel.basic_nack(method.delivery_tag, requeue=True)  # as a dying consumer would
            returned += 1
        assert returned == topology.DELIVERY_LIMIT + 1
        for _ in range(100):
            method, props, body = channel.basic_get("spc.events.dead", auto_ack=True)
            if method:
                break
            time.sleep(0.05)
        assert body == b'{"poison": true}' and props.message_id == "m-1"
    finally:
        conn.close()


def test_passwords_from_the_environment_are_hashed_as_the_broker_checks_them():
    """What compose loads at boot: `spc definitions --passwords-from-env`; a service logs in."""
    from spc.generate.definitions import password_env, with_passwords

    tag = uuid.uuid4().hex[:8]
    vhost, user = f"spc_pw_{tag}", f"spc-funding-{tag}"
    doc = {
        "users": [dict(u, name=user) for u in DEFINITIONS["users"] if u["name"] == "spc-funding"],
        "vhosts": [{"name": vhost}],
        "permissions": [{"user": user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}],
    }
    with_passwords(doc, {password_env(user): "s3cret-Pw"})
    requests.post(f"{RABBIT_API}/definitions", json=doc, timeout=30).raise_for_status()
    try:
        conn = pika.BlockingConnection(pika.URLParameters(f"amqp://{user}:s3cret-Pw@{AMQP_BASE.split('@', 1)[1]}/{vhost}"))
        conn.close()
        with pytest.raises(pika.exceptions.ProbableAuthenticationError):
            pika.BlockingConnection(pika.URLParameters(f"amqp://{user}:wrong@{AMQP_BASE.split('@', 1)[1]}/{vhost}"))
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=30)
        requests.delete(f"{RABBIT_API}/users/{user}", timeout=10)


def test_a_service_recreates_its_own_queue_and_names_a_missing_one_it_may_not_create(broker):
    uri, vhost = broker
    for queue in ("funding.events", "audit.compliance"):
        requests.delete(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/{queue}", timeout=10).raise_for_status()
    with Connection(uri("spc-funding")) as conn:
        with pytest.raises(topology.TopologyMissing) as missing:
            topology.declare(conn.default_channel, "funding")
    assert str(missing.value).startswith(
        "the queue 'audit.compliance' is missing from this vhost and this broker user may not create it"
    ), missing.value
    assert "spc definitions --load" in str(missing.value)
    with Connection(uri("spc-audit")) as conn:
        topology.declare(conn.default_channel, "audit")  # its own: declared again, and bound
    with Connection(uri("spc-funding")) as conn:
        topology.declare(conn.default_channel, "funding")
    assert _queue_depth(vhost, "funding.events") == 0  # funding declared its own again
    assert _refused(uri("ext-inspection"), _publish("spc.inbound", "compliance.violation_reported")) is None
    assert _queue_depth(vhost, "audit.compliance", 1) == 1  # and audit's is bound again


def test_dead_letters_are_listed_without_a_citizens_words_and_expire(broker):
    """docs/security.md: `spc dlq list` (as spc-operator) withholds a report's text; the policy
    spc-dead-letters drops a dead letter after its TTL (30 days; lowered here to 1 s)."""
    import os
    import subprocess
    import sys
    import time

    uri, vhost = broker
    words = "Ma fille Léa Martin a été refusée sans motif"
    report = envelope("usager.report_submitted", {"service_id": "s1", "category": "other", "text": words})
    guest = f"{AMQP_BASE}/{vhost}"
    assert _refused(guest, _publish("spc.dead", "inbound", json.dumps(report).encode())) is None
    assert _queue_depth(vhost, "spc.inbound.dead", 1) == 1
    listed = subprocess.run(
        [sys.executable, "-m", "spc.cli", "dlq", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, AMQP_URI=uri("spc-operator")),
    )
    assert listed.returncode == 0 and report["event_id"] in listed.stdout, listed.stderr
    assert "Léa" not in listed.stdout and f"[redacted: {len(words)} characters]" in listed.stdout
    policy = next(p for p in DEFINITIONS["policies"] if p["name"] == "spc-dead-letters")
    assert policy["definition"]["message-ttl"] == 30 * 86_400_000
    # a quorum queue fixes a message's expiry when it takes it: lower the TTL, then dead-letter
    requests.put(
        f"{RABBIT_API}/policies/{quote(vhost, safe='')}/{policy['name']}",
        timeout=10,
        json={
            "pattern": policy["pattern"],
            "apply-to": "queues",
            "priority": policy["priority"],
            "definition": dict(policy["definition"], **{"message-ttl": 1000}),
        },
    ).raise_for_status()
    wait_for(
        "the lowered TTL applied",
        lambda: (
            requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}/spc.events.dead", timeout=10)
            .json()
            .get("effective_policy_definition", {})
            .get("message-ttl")
            == 1000
        ),
    )
    assert _refused(guest, _publish("spc.dead", "events", json.dumps(report).encode())) is None  # taken
    time.sleep(2.5)
    conn, channel = _channel(guest)
    try:
        assert channel.basic_get("spc.events.dead", auto_ack=False)[0] is None  # dropped once expired
    finally:
        conn.close()


def test_a_forged_dead_letter_is_never_replayed_outside_spc_or_into_a_queue_not_taking_its_type(broker):
    """Each service's user may dead-letter (publish to spc.dead) and so write x-spc-queue: `spc dlq
    replay` must not let that header steer a payment order into the payments system's queue, nor a
    type into a queue that does not take it (docs/security.md, Known gaps)."""
    import os
    import subprocess
    import sys

    uri, vhost = broker
    payments = uri("ext-payments")
    assert _refused(payments, lambda ch: ch.queue_declare("ext.payments.orders", durable=True)) is None
    order = envelope(
        "funding.tranche_released", {"tranche_id": "t", "grant_id": "g", "service_id": "s", "amount_cents": 1, "currency": "EUR"}
    )

    def dead_letter(target):
        def act(channel):
            channel.basic_publish(
                "spc.dead",
                "events",
                json.dumps(order).encode(),
                pika.BasicProperties(
                    delivery_mode=2,
                    type="funding.tranche_released",
                    message_id=order["event_id"],
                    headers={"x-spc-queue": target, "x-spc-rejection": "retries_exhausted: x"},
                ),
                mandatory=True,
            )

        return act

    for target in ("ext.payments.orders", "registry.events"):  # outside SPC; a queue not taking the type
        assert _refused(uri("spc-funding"), dead_letter(target)) is None
    assert _queue_depth(vhost, "spc.events.dead", 2) == 2
    replay = subprocess.run(
        [sys.executable, "-m", "spc.cli", "dlq", "replay", "--queue", "spc.events.dead"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, AMQP_URI=uri("spc-operator")),
    )
    assert replay.returncode == 0 and replay.stdout.strip().startswith("0 messages replayed"), replay.stdout + replay.stderr
    conn, channel = _channel(payments)
    try:
        assert channel.basic_get("ext.payments.orders", auto_ack=True)[0] is None
    finally:
        conn.close()


def test_a_dead_letter_is_replayed_only_from_the_consumer_of_its_queue_as_the_broker_vouches(broker):
    """Stolen `spc-funding` credentials may dead-letter (publish to spc.dead), so may address a
    forged `registry.service_reinstated` to distribution's queue. Signed with its own login (the
    broker refuses any other `user_id`), it is `forged` and never replayed; unsigned, it is
    `unverified` and waits for `--unverified`; the one distribution's consumer dead-lettered is
    `verified` and replayed (docs/security.md)."""
    import os
    import subprocess
    import sys

    uri, vhost = broker
    reinstated = envelope("registry.service_reinstated", {"service_id": "s", "version": 9}, producer="registry")

    def dead_letter(message_id, user_id):
        def act(channel):
            channel.basic_publish(
                "spc.dead",
                "events",
                json.dumps(reinstated).encode(),
                pika.BasicProperties(
                    delivery_mode=2,
                    type="registry.service_reinstated",
                    message_id=message_id,
                    user_id=user_id,
                    headers={"x-spc-queue": "distribution.events", "x-spc-rejection": "unknown_service: s"},
                ),
                mandatory=True,
            )

        return act

    funding, distribution = uri("spc-funding"), uri("spc-distribution")
    real = {name: urlsplit(uri(name)).username for name in ("spc-funding", "spc-distribution")}
    assert _refused(funding, dead_letter("signed-forgery", real["spc-funding"])) is None
    assert _refused(funding, dead_letter("unsigned-forgery", None)) is None
    assert _refused(funding, dead_letter("posing", real["spc-distribution"])) == 406  # the broker checks user_id
    assert _refused(distribution, dead_letter("genuine", real["spc-distribution"])) is None
    assert _queue_depth(vhost, "spc.events.dead", 3) == 3
    # the services' logins as configured (these tests' users carry a suffix; deployment's are spc-<service>)
    env = dict(os.environ, AMQP_URI=uri("spc-operator"), FUNDING_AMQP_URI=funding, DISTRIBUTION_AMQP_URI=distribution)

    def spc(*args):
        return subprocess.run(
            [sys.executable, "-m", "spc.cli", "dlq", *args, "--queue", "spc.events.dead"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    listed = {m["message_id"]: m for m in map(json.loads, spc("list").stdout.splitlines())}
    assert {k: (m["trust"], m["dead_lettered_by"]) for k, m in listed.items()} == {
        "signed-forgery": ("forged", real["spc-funding"]),
        "unsigned-forgery": ("unverified", None),
        "genuine": ("verified", real["spc-distribution"]),
    }
    replay = spc("replay")
    assert replay.returncode == 0 and replay.stdout.strip() == "1 messages replayed", replay.stdout + replay.stderr
    assert "1 unverified dead letters kept" in replay.stderr and "1 forged dead letters kept" in replay.stderr
    assert _queue_depth(vhost, "distribution.events", 1) == 1
    again = spc("replay", "--unverified")
    assert again.stdout.strip() == "1 messages replayed" and "1 forged dead letters kept" in again.stderr
    assert _queue_depth(vhost, "distribution.events", 2) == 2
    assert [m["message_id"] for m in map(json.loads, spc("list").stdout.splitlines())] == ["signed-forgery"]
