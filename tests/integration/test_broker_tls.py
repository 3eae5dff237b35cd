"""TLS to RabbitMQ (docs/deploy.md, "TLS to the broker"): `amqps://` URIs with the CA to trust
(SPC_AMQP_CA_FILE), the server's name checked against the URI's host, and a client certificate
for RabbitMQ's x509 login (SPC_AMQP_CERT_FILE, SPC_AMQP_KEY_FILE), for kombu (the services'
consumers and outbox relay, through nameko), pika (`spc publish`, `spc dlq`) alike. Against a
RabbitMQ node of the machine's binaries that listens for AMQPS only (tests/tls.py), with a CA the
test makes. A wrong CA and a wrong host name are refused in one clear line."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from kombu import Connection

from spc.shared.messaging import topology
from spc.shared.messaging.broker import amqp_ssl
from tests.service.conftest import cluster_factory  # noqa: F401  (the fixture, for this test too)
from tests.support import envelope, wait_for
from tests.tls import Authority, TlsRabbit

VIOLATION = envelope(
    "compliance.violation_reported",
    {
        "service_id": "svc-tls",
        "principle": "neutrality",
        "severity": "major",
        "summary": "Political leaflets",
        "reported_by": "inspection-35",
    },
)


@pytest.fixture(scope="module")
def node():
    base = Path(tempfile.mkdtemp(prefix="spc-tls-mq-"))
    os.chmod(base, 0o755)  # the rabbitmq user reads its files there
    ca = Authority()
    rabbit = TlsRabbit(base / "node", ca).start()
    rabbit.ca = ca.write(base / "ca.pem")
    rabbit.other_ca = Authority("Another CA").write(base / "other-ca.pem")
    rabbit.client_cert, rabbit.client_key = ca.issue(
        base / "client.crt", base / "client.key", dns=(), common_name="ext-inspection-x509", client=True
    )
    rabbit.ctl("add_user", "ext-inspection-x509", "unused-password")
    rabbit.ctl("clear_password", "ext-inspection-x509")  # it logs in by its certificate only
    rabbit.ctl("set_permissions", "ext-inspection-x509", "^$", "^spc\\.inbound$", "^$")
    env = {"SPC_AMQP_CA_FILE": str(rabbit.ca)}
    with Connection(rabbit.uri(), ssl=amqp_ssl(rabbit.uri(), env)) as conn:
        topology.declare_all(conn.default_channel)  # kombu over TLS
    yield rabbit
    rabbit.stop()
    shutil.rmtree(base, ignore_errors=True)


def publish(node, tmp_path, uri, **env):
    path = tmp_path / "violation.json"
    path.write_text(json.dumps(dict(VIOLATION, event_id=envelope("x", {})["event_id"])))
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", "publish", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, AMQP_URI=uri, **env),
    )


def connections(node):
    rows = node.ctl("list_connections", "user", "ssl", "auth_mechanism").stdout.splitlines()[1:]
    return [tuple(row.split("\t")) for row in rows]


def test_spc_publish_over_amqps_with_the_ca_to_trust(node, tmp_path):
    done = publish(node, tmp_path, node.uri(), SPC_AMQP_CA_FILE=str(node.ca))
    assert done.returncode == 0 and "confirmed by the broker" in done.stdout, done.stderr
    # a quorum queue's count reaches rabbitmqctl within seconds
    wait_for(
        "the event in audit's queue",
        lambda: "audit.compliance\t1" in node.ctl("list_queues", "name", "messages").stdout.splitlines(),
    )


@pytest.mark.parametrize(
    "uri,ca,expected",
    [
        ("localhost", "other_ca", "self-signed certificate in certificate chain"),
        ("127.0.0.1", "ca", "IP address mismatch"),
    ],
)
def test_a_wrong_ca_or_a_wrong_host_name_is_one_clear_line(node, tmp_path, uri, ca, expected):
    done = publish(node, tmp_path, node.uri(host=uri), SPC_AMQP_CA_FILE=str(getattr(node, ca)))
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "TLS certificate" in lines[0] and expected in lines[0] and "guest:guest" not in lines[0], lines


def test_the_services_connections_check_the_brokers_name_too(node):
    """kombu (the services' consumers and relays), not only pika: a URI naming another host than
    the certificate's is refused at the handshake."""
    from spc.shared.messaging.broker import amqp_connection

    env = {"SPC_AMQP_CA_FILE": str(node.ca)}
    for uri, expected in ((node.uri(host="127.0.0.1"), "IP address mismatch"),):
        conn = amqp_connection(uri, ssl_options=amqp_ssl(uri, env))
        with pytest.raises(Exception) as refused:
            conn.ensure_connection(max_retries=1)
        conn.release()
        assert expected in str(refused.value), refused.value
    other = {"SPC_AMQP_CA_FILE": str(node.other_ca)}
    conn = amqp_connection(node.uri(), ssl_options=amqp_ssl(node.uri(), other))
    with pytest.raises(Exception) as refused:
        conn.ensure_connection(max_retries=1)
    conn.release()
    assert "certificate verify failed" in str(refused.value), refused.value


def test_an_outside_publisher_logs_in_with_its_certificate(node, tmp_path):
    done = publish(
        node,
        tmp_path,
        node.uri(user=None),
        SPC_AMQP_CA_FILE=str(node.ca),
        SPC_AMQP_CERT_FILE=str(node.client_cert),
        SPC_AMQP_KEY_FILE=str(node.client_key),
    )
    assert done.returncode == 0 and "confirmed by the broker" in done.stdout, done.stderr
    # its user has no password: without its certificate it has no way in
    refused = publish(node, tmp_path, node.uri(user="ext-inspection-x509", password="a-guess"), SPC_AMQP_CA_FILE=str(node.ca))
    assert refused.returncode == 2 and "refused the login" in refused.stderr, refused.stderr


def test_the_services_consume_and_relay_over_amqps(node, cluster_factory):  # noqa: F811 (the fixture)
    _, spc = cluster_factory(names=("funding",), AMQP_URI=node.uri(), SPC_AMQP_CA_FILE=str(node.ca))
    spc.ok("POST", "funding", "/programmes", "funding_officer", {"name": "TLS", "budget_cents": 100})
    wait_for("the event relayed over TLS", lambda: "audit.events\t0" not in node.ctl("list_queues", "name", "messages").stdout)
    assert spc.call("GET", "funding", "/health/ready").status_code == 200  # its consumers consume
    mine = [c for c in connections(node) if c[0] == "guest"]
    assert len(mine) >= 2 and all(ssl == "true" for _, ssl, _ in mine), mine
