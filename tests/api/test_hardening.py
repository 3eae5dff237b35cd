"""What the admin endpoints refuse before any use case runs, each with a JSON error: bodies past
SPC_MAX_BODY_BYTES (413, before the body is read whole), bodies that are not JSON (415), text with
NUL (400), pagination past its bounds (400), malformed correlation ids (400); and what they keep
to themselves: tokens are never logged. SQLite is enough here: this is the HTTP edge."""

import json
import logging
import socket

import pytest
import requests

from spc.runtime import config
from spc.runtime.runner import Cluster
from tests.api.conftest import examples_demarche
from tests.servers import AMQP_BASE, create_vhost, delete_vhost
from tests.support import TOKENS, TOKENS_ENV, Api, metric, reserve_ports

from .story import replay


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    """The four services once for the module (each test sends what it sends; none depends on
    another's state): its own vhost, SQLite; no undeclared error answered."""
    vhost = create_vhost("spc_edge")
    ports = reserve_ports(list(config.SERVICE_NAMES))
    ds, ds_env = examples_demarche(tmp_path_factory.mktemp("edge-ds"))
    env = {
        "AMQP_URI": f"{AMQP_BASE}/{vhost}",
        "SPC_DATA_DIR": str(tmp_path_factory.mktemp("edge")),
        "SPC_BIND": "127.0.0.1",
        "SPC_ADMIN_TOKENS": TOKENS_ENV,
        **ds_env,
        **{f"{n.upper()}_PORT": str(p) for n, p in ports.items()},
    }
    cluster = Cluster(config.load(env), config.SERVICE_NAMES).start()
    api = Api(ports)
    api.amqp_uri = env["AMQP_URI"]
    try:
        yield api
        undeclared = {n: metric(api, n, f"spc_{n}_http_undeclared_errors_total") for n in config.SERVICE_NAMES}
        assert not any(undeclared.values()), undeclared
    finally:
        cluster.stop()
        delete_vhost(vhost)
        ds.close()


def raw_request(port, head, body=b"", read=65536):
    """Send bytes as they are (a client that announces more than it sends); the answer's text."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < 40:
            chunk = sock.recv(read)
            if not chunk:
                break
            data += chunk
            if b"}" in data:
                break
    return data.decode("utf-8", "replace")


def test_a_huge_body_is_refused_from_its_length_before_it_is_sent(edge):
    port = edge.ports["funding"]
    answer = raw_request(
        port,
        "POST /programmes HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKENS['funding_officer']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 60000000\r\n",
        b'{"name": "',
    )
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"code": "body_too_large"' in answer and '"max_bytes": 262144' in answer


def test_a_chunked_body_past_the_cap_is_refused_after_at_most_the_cap(edge):
    def chunks():
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 10_000  # 1 MB in all, never announced
        yield b'", "budget_cents": 100}'

    resp = requests.post(
        f"http://127.0.0.1:{edge.ports['funding']}/programmes",
        data=chunks(),
        timeout=30,
        headers={"Authorization": f"Bearer {TOKENS['funding_officer']}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "body_too_large"


def test_a_small_chunked_body_is_read(edge):
    body = json.dumps({"name": "Chunked", "budget_cents": 100}).encode()
    resp = requests.post(
        f"http://127.0.0.1:{edge.ports['funding']}/programmes",
        data=iter([body[:5], body[5:]]),
        headers={"Authorization": f"Bearer {TOKENS['funding_officer']}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


def test_the_cap_is_set_by_spc_max_body_bytes(cluster_factory):
    _, api = cluster_factory(names=("funding",), SPC_MAX_BODY_BYTES="1000")
    url = f"http://127.0.0.1:{api.ports['funding']}/programmes"
    headers = {"Authorization": f"Bearer {TOKENS['funding_officer']}"}
    assert requests.post(url, json={"name": "x" * 2000, "budget_cents": 1}, headers=headers).status_code == 413
    assert requests.post(url, json={"name": "x" * 900, "budget_cents": 1}, headers=headers).status_code == 400


def test_a_body_without_content_type_is_415_and_says_what_to_send(edge):
    port = edge.ports["funding"]
    body = b'{"name": "x", "budget_cents": 1}'
    answer = raw_request(
        port,
        "POST /programmes HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {TOKENS['funding_officer']}\r\n"
        f"Content-Length: {len(body)}\r\n",
        body,
    )
    assert answer.startswith("HTTP/1.1 415"), answer[:200]
    assert "Content-Type: application/json" in answer


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_415(edge, content_type):
    resp = requests.post(
        f"http://127.0.0.1:{edge.ports['funding']}/programmes",
        data=b'{"name": "x", "budget_cents": 1}',
        headers={"Authorization": f"Bearer {TOKENS['funding_officer']}", "Content-Type": content_type},
    )
    assert resp.status_code == 415 and resp.json()["error"]["code"] == "unsupported_media_type", resp.text


def test_an_unknown_charset_is_a_clear_400(edge):
    resp = requests.post(
        f"http://127.0.0.1:{edge.ports['funding']}/programmes",
        data=b'{"name": "x", "budget_cents": 1}',
        headers={"Authorization": f"Bearer {TOKENS['funding_officer']}", "Content-Type": "application/json; charset=klingon"},
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_json", resp.text


def test_json_with_a_charset_or_a_json_suffix_is_json(edge):
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        resp = requests.post(
            f"http://127.0.0.1:{edge.ports['funding']}/programmes",
            data=json.dumps({"name": "x", "budget_cents": 1}),
            headers={"Authorization": f"Bearer {TOKENS['funding_officer']}", "Content-Type": content_type},
        )
        assert resp.status_code == 201, (content_type, resp.text)


@pytest.mark.parametrize("where", ["body", "query", "path"])
def test_text_with_nul_is_400_not_a_database_error(edge, where):
    headers = {"Authorization": f"Bearer {TOKENS['registrar']}"}
    base = f"http://127.0.0.1:{edge.ports['registry']}"
    if where == "body":
        resp = requests.post(f"{base}/services", json={"name": "a\u0000b"}, headers=headers)
    elif where == "query":
        resp = requests.get(f"{base}/services?department=3%005", headers=headers)
    else:
        resp = requests.get(f"{base}/services/ab%00cd", headers=headers)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_text", resp.text


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "offset=100001", "limit=ten"])
def test_pagination_is_bounded(edge, query):
    for service, path in (
        ("registry", "/services"),
        ("distribution", "/counters"),
        ("registry", "/public/services"),
        ("distribution", "/public/counters"),
    ):
        resp = requests.get(
            f"http://127.0.0.1:{edge.ports[service]}{path}?{query}", headers={"Authorization": f"Bearer {TOKENS['viewer']}"}
        )
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_request", (path, query, resp.text)


def test_correlation_ids_are_echoed_made_up_or_refused(edge):
    url = f"http://127.0.0.1:{edge.ports['registry']}/services"
    headers = {"Authorization": f"Bearer {TOKENS['viewer']}"}
    assert requests.get(url, headers={**headers, "X-Correlation-Id": "desk-35/42"}).headers["X-Correlation-Id"] == "desk-35/42"
    assert len(requests.get(url, headers=headers).headers["X-Correlation-Id"]) == 36
    bad = requests.get(url, headers={**headers, "X-Correlation-Id": "a b\x7f"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_correlation_id"


def test_unknown_paths_and_methods_answer_json(edge):
    base = f"http://127.0.0.1:{edge.ports['registry']}"
    assert requests.get(f"{base}/nowhere").json()["error"]["code"] == "not_found"
    resp = requests.delete(f"{base}/services")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed"


def test_tokens_are_never_logged(edge, caplog):
    caplog.set_level(logging.DEBUG)
    replay(edge, edge.amqp_uri)
    requests.get(
        f"http://127.0.0.1:{edge.ports['registry']}/services", headers={"Authorization": "Bearer an-unknown-secret-token"}
    )
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert len(caplog.records) > 10
    for secret in (*TOKENS.values(), "an-unknown-secret-token"):
        assert secret not in logged, secret


def test_a_wrong_method_says_which_methods_the_path_allows(edge):
    base = f"http://127.0.0.1:{edge.ports['registry']}"
    for method in ("TRACE", "DELETE", "PATCH", "PUT"):
        resp = requests.request(method, f"{base}/services")
        assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed", method
        assert set(resp.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}, resp.headers
    assert requests.request("TRACE", f"{base}/health/ready").headers["Allow"] == "GET, HEAD"


def test_every_answer_carries_the_security_headers_and_hsts_only_over_a_trusted_https(edge, cluster_factory):
    base = f"http://127.0.0.1:{edge.ports['distribution']}"
    answers = [
        requests.get(f"{base}/health/ready"),
        requests.get(f"{base}/nowhere"),
        requests.get(f"{base}/counters"),
        requests.post(f"{base}/counters/x/reports", data="x"),
        requests.get(f"{base}/metrics"),
        # a client's claim of https is not believed without SPC_TRUST_FORWARDED
        requests.get(f"{base}/health/ready", headers={"X-Forwarded-Proto": "https"}),
    ]
    for resp in answers:
        assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.url
        assert resp.headers["Referrer-Policy"] == "no-referrer", resp.url
        assert "Strict-Transport-Security" not in resp.headers, resp.url
    _, behind_proxy = cluster_factory(names=("distribution",), SPC_TRUST_FORWARDED="true")
    url = f"http://127.0.0.1:{behind_proxy.ports['distribution']}/health/ready"
    assert requests.get(url, headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in requests.get(url, headers={"X-Forwarded-Proto": "http"}).headers


def test_repeated_bad_tokens_from_one_client_are_bounded_logged_without_the_token_and_counted(cluster_factory, caplog):
    import time

    caplog.set_level(logging.INFO)
    # 6 a minute: a bucket refills one try in 10 s, slow enough for a loaded machine's requests
    _, api = cluster_factory(names=("registry",), SPC_AUTH_FAILURES_PER_MINUTE="6")
    url = f"http://127.0.0.1:{api.ports['registry']}/services"
    guess, good = {"Authorization": "Bearer guess-0123456789"}, {"Authorization": f"Bearer {TOKENS['registrar']}"}
    assert requests.get(url).status_code == 401  # no token at all counts too
    assert [requests.get(url, headers=guess).status_code for _ in range(5)] == [401] * 5
    refused = requests.get(url, headers=guess)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 10
    # a good token from that client is refused too until then: a right guess must not show
    assert requests.get(url, headers=good).status_code == 429
    time.sleep(wait + 0.2)
    assert requests.get(url, headers=good).status_code == 200
    lines = [r for r in caplog.records if r.name == "spc.auth"]
    assert [r.reason for r in lines] == ["missing_token"] + ["unknown_token"] * 5 + ["rate_limited"] * 2
    assert all(r.route == "/services" and r.client == "127.0.0.1" for r in lines)
    assert not any("guess-0123456789" in repr(r.__dict__) or TOKENS["registrar"] in repr(r.__dict__) for r in lines)
    assert metric(api, "registry", "spc_registry_auth_refusals_total", reason="unknown_token") == 5
    assert metric(api, "registry", "spc_registry_auth_refusals_total", reason="rate_limited") == 2
