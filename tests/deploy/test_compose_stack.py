"""deploy/compose.yaml for real, on RabbitMQ 4.0 (the default line) with every feature 4.x
deprecated refused: the image, the containers turning healthy, the story through the published
ports, kills and restarts, Prometheus, a wrong secret, rotations while events flow, and
docs/deploy.md's backup and restore. The tests build on each other, in file order, on one stack."""

import os
import re
import shutil
import time
import uuid

import pytest
import requests

from tests.deploy.stack import SPC, Reports, Stack, https_get, run
from tests.faults import story
from tests.faults.ledger import Ledger
from tests.support import envelope, publish_inbound, wait_for

pytestmark = pytest.mark.timeout(900)
STATE = {"inbound": []}  # what the tests publish from outside, for the ledger at each step


@pytest.fixture(scope="module")
def stack(spc_image, tmp_path_factory):
    st = Stack(
        tmp_path_factory.mktemp("compose"), spc_image, overrides=("compose.rabbitmq4-strict.yaml", "rabbitmq-4-strict.conf")
    )
    start = time.monotonic()
    try:
        st.up()
        st.wait_healthy()
        STATE["healthy_after"] = time.monotonic() - start
        print(f"\ncompose up -> all four healthy in {STATE['healthy_after']:.1f} s")
        yield st
    finally:
        print(st.logs(tail=60))
        st.down(volumes=True)


def ledger_check(st, timeout=120):
    ledger = Ledger(st.db_urls())
    try:
        return ledger.check(STATE["inbound"], timeout=timeout)
    finally:
        ledger.close()


def publish(st, user, event):
    publish_inbound(st.amqp(user), event, event["event_type"], message_id=event["event_id"])
    STATE["inbound"].append((event["event_id"], event["event_type"]))


def counters(st):
    for cid, dep, com in (("fs-a", "35", "35238"), ("fs-b", "35", "35047")):
        publish(
            st,
            "ext-france-services-directory",
            envelope(
                "counter.upserted",
                {"counter_id": cid, "name": cid, "commune_insee": com, "department": dep, "address": ""},
                producer="france-services-directory",
            ),
        )


def violation(st, sid):
    publish(
        st,
        "ext-inspection",
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "no_ad_monetisation",
                "severity": "major",
                "summary": "Ads sold on the parents' portal",
                "reported_by": "inspection-35",
            },
            producer="inspection",
        ),
    )


def funded_and_listed(api):
    sid = story.active_service(api)
    tranches = story.funded(api, sid)
    wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"}, timeout=60)
    return sid, tranches


# ---- the image ------------------------------------------------------------------------------
def test_the_image_runs_as_uid_10001_with_no_compiler_and_no_source_tree(spc_image):
    probe = run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            spc_image,
            "-c",
            "id -u; for c in gcc cc g++ make; do command -v $c; done; ls -d /src /wheels 2>/dev/null;"
            "find / -xdev -name service.py -path '*services/funding*' 2>/dev/null; true",
        ]
    ).stdout.split()
    assert probe[0] == "10001", probe
    assert all(re.search(r"/(site|dist)-packages/spc/", p) for p in probe[1:]), f"a compiler or the source tree: {probe[1:]}"
    size = int(run(["docker", "image", "inspect", "-f", "{{.Size}}", spc_image]).stdout)
    base = run(["docker", "image", "inspect", "-f", "{{.Size}}", "spc-standin/python:3.11"]).stdout
    print(f"\nimage {spc_image}: {size / 1e6:.0f} MB, {(size - int(base)) / 1e6:.0f} MB over its base")


def test_the_image_carries_a_cyclonedx_sbom_of_every_python_package_it_installed(spc_image):
    """The build writes /usr/share/spc/sbom.cdx.json (deploy/Dockerfile, stage sbom): CycloneDX,
    SPC as the main component, and each package the image has, at the version installed, which
    is the version constraints.txt pins."""
    import json
    from pathlib import Path

    bom = json.loads(run(["docker", "run", "--rm", "--entrypoint", "cat", spc_image, "/usr/share/spc/sbom.cdx.json"]).stdout)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    assert bom["metadata"]["component"]["name"] == "service-public-citoyen"
    listed = {c["name"].lower().replace("_", "-"): c["version"] for c in bom["components"]}
    assert all(c["purl"].startswith("pkg:pypi/") for c in bom["components"])
    installed = dict(
        line.split("==")
        for line in run(
            [
                "docker",
                "run",
                "--rm",
                "--entrypoint",
                "python",
                spc_image,
                "-m",
                "pip",
                "list",
                "--format=freeze",
                "--disable-pip-version-check",
            ]
        ).stdout.split()
        if "==" in line
    )
    installed = {k.lower().replace("_", "-"): v for k, v in installed.items()}
    installed.pop("service-public-citoyen", None)
    assert listed == installed
    pins = dict(line.split("==") for line in (Path(__file__).parents[2] / "constraints.txt").read_text().split() if "==" in line)
    pins = {k.lower().replace("_", "-"): v for k, v in pins.items()}
    for name in ("nameko", "kombu", "pika", "psycopg", "sqlalchemy", "marshmallow", "pyjwt", "cryptography"):
        assert listed[name] == pins[name], name


def test_every_spc_container_turns_healthy_by_the_image_s_own_health_check(stack):
    for name in SPC:
        config = run(["docker", "inspect", "-f", "{{json .Config.Healthcheck.Test}}", stack.container(name)]).stdout
        assert "/health/ready" in config, config  # the Dockerfile's HEALTHCHECK, not compose's
        assert stack.health(name) == "healthy"
    assert STATE["healthy_after"] < 180


def test_the_databases_are_utf8_on_a_server_whose_default_is_sql_ascii(stack):
    encodings = dict(
        line.split("|") for line in stack.psql("SELECT datname, pg_encoding_to_char(encoding) FROM pg_database").splitlines()
    )
    assert encodings["template1"] == "SQL_ASCII"  # compose.test.yaml: initdb under the POSIX locale
    assert {encodings[name] for name in SPC} == {"UTF8"}, encodings


def test_nothing_spc_declares_is_deprecated_in_rabbitmq_4(stack):
    assert stack.exec("rabbitmq", "rabbitmqctl", "version").stdout.strip().startswith("4.0")
    used = stack.exec("rabbitmq", "rabbitmqctl", "-q", "list_deprecated_features", "--used").stdout
    assert used.split() in ([], ["name", "deprecation_phase"]), used
    queues = stack.management("queues/spc")
    assert len(queues) >= 10, [q["name"] for q in queues]
    for q in queues:  # durable quorum queues only: no transient non-exclusive queue, no mirroring
        assert (q["durable"], q["exclusive"], q["auto_delete"], q["type"]) == (True, False, False, "quorum"), q
        assert q["arguments"]["x-queue-type"] == "quorum"
        assert not [k for k in q["arguments"] if k.startswith("x-ha")], q
    assert not [p for p in stack.management("policies/spc") if any(k.startswith("ha-") for k in p["definition"])]
    for channel in stack.management("channels"):  # global QoS: a prefetch for the whole channel
        assert channel.get("global_prefetch_count", 0) == 0, channel


# ---- TLS: the broker and the staff's HTTP ------------------------------------------------------
def test_the_broker_listens_for_amqps_only_and_every_spc_connection_is_tls(stack):
    listeners = stack.exec("rabbitmq", "rabbitmq-diagnostics", "-q", "listeners").stdout
    protocols = set(re.findall(r"protocol: ([\w/]+)", listeners))
    assert {"amqp/ssl", "https"} <= protocols, listeners
    assert not protocols & {"amqp", "http"}, f"a clear-text listener: {listeners}"  # 15692 is http/prometheus
    assert not stack.compose("port", "rabbitmq", "5672", check=False).stdout.strip()
    users = {f"spc-{name}" for name in SPC}
    connections = wait_for(
        "the four services connected",
        lambda: (lambda c: c if users <= {x["user"] for x in c} else None)(stack.management("connections")),
    )
    assert all(c["ssl"] and c["ssl_protocol"] in ("tlsv1.3", "tlsv1.2") for c in connections if c["user"] in users)


def test_an_outside_publisher_uses_amqps_with_the_ca_and_is_refused_in_one_line_without_it(stack, tmp_path):
    from tests.tls import Authority

    event = envelope(
        "counter.upserted",
        {"counter_id": "fs-tls", "name": "fs-tls", "commune_insee": "35238", "department": "35", "address": ""},
        producer="france-services-directory",
    )
    path = tmp_path / "event.json"
    path.write_text(__import__("json").dumps(event))
    other = Authority("Another CA").write(tmp_path / "other-ca.pem")
    uri = stack.amqp("ext-france-services-directory")
    refused = stack.spc("publish", str(path), check=False, AMQP_URI=uri, SPC_AMQP_CA_FILE=str(other))
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "TLS certificate is refused" in refused.stderr and "SPC_AMQP_CA_FILE" in refused.stderr
    assert stack.env["SPC_BROKER_PASSWORD_EXT_FRANCE_SERVICES_DIRECTORY"] not in refused.stderr
    wrong_name = stack.spc(
        "publish", str(path), check=False, SPC_AMQP_CA_FILE=str(stack.ca), AMQP_URI=uri.replace("@localhost:", "@127.0.0.1:")
    )  # a name the certificate lacks
    assert wrong_name.returncode != 0 and "TLS certificate is refused" in wrong_name.stderr, wrong_name.stderr
    sent = stack.spc("publish", str(path), AMQP_URI=uri, SPC_AMQP_CA_FILE=str(stack.ca))
    assert "confirmed by the broker" in sent.stdout
    STATE["inbound"].append((event["event_id"], event["event_type"]))
    plain = stack.spc("publish", str(path), check=False, AMQP_URI=uri.replace("amqps://", "amqp://"))
    assert plain.returncode != 0, "clear-text AMQP was accepted on the AMQPS port"


def test_an_outside_publisher_logs_in_by_its_client_certificate_as_docs_deploy_says(stack, tmp_path):
    """docs/deploy.md, "TLS": `docker compose run --rm certificates spc certificates --out /certs
    --client ext-france-services-directory`, then `spc publish` with that certificate and no user
    in the URI (RabbitMQ's x509 login: EXTERNAL, the common name is the broker user)."""
    stack.compose(
        "run", "--rm", "certificates", "spc", "certificates", "--out", "/certs", "--client", "ext-france-services-directory"
    )
    crt, key = stack.dir / "certs/ext-france-services-directory.crt", stack.dir / "certs/ext-france-services-directory.key"
    event = envelope(
        "counter.upserted",
        {"counter_id": "fs-x509", "name": "fs-x509", "commune_insee": "35238", "department": "35", "address": ""},
        producer="france-services-directory",
    )
    path = tmp_path / "event.json"
    path.write_text(__import__("json").dumps(event))
    uri = f"amqps://localhost:{stack.ports['SPC_AMQPS_PORT']}/spc"
    sent = stack.spc(
        "publish",
        str(path),
        AMQP_URI=uri,
        SPC_AMQP_CA_FILE=str(stack.ca),
        SPC_AMQP_CERT_FILE=str(crt),
        SPC_AMQP_KEY_FILE=str(key),
    )
    assert "confirmed by the broker" in sent.stdout, sent.stdout + sent.stderr
    STATE["inbound"].append((event["event_id"], event["event_type"]))
    wait_for(
        "the counter, published by certificate",
        lambda: any(c["id"] == "fs-x509" for c in stack.api().ok("GET", "distribution", "/counters?limit=200")["items"]),
        timeout=30,
    )


def test_staff_reach_each_service_over_https_through_the_proxy_with_the_browser_headers(stack):
    viewer = {"Authorization": f"Bearer {stack.tokens()['viewer']}"}
    for name in SPC:
        answer = https_get(f"{stack.https(name)}/standings", headers=viewer, ca=stack.ca)
        assert answer.get("status") == 200, (name, answer)
        assert answer["headers"]["Strict-Transport-Security"].startswith("max-age="), answer["headers"]
        assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
        assert answer["headers"]["Referrer-Policy"] == "no-referrer"
        direct = requests.get(f"http://127.0.0.1:{stack.ports[f'SPC_{name.upper()}_PORT']}/standings", headers=viewer, timeout=15)
        assert direct.status_code == 200 and "Strict-Transport-Security" not in direct.headers
        published = stack.compose("port", name, str(8000 + SPC.index(name) + 1)).stdout.strip()
        assert published.startswith("127.0.0.1:"), f"{name}'s plain http is published beyond this machine: {published}"
    plain = requests.get(stack.https("registry").replace("https://", "http://") + "/health/live", timeout=15)
    assert plain.status_code == 400  # the proxy: plain HTTP sent to its https port
    unknown_ca = https_get(f"{stack.https('registry')}/health/live")  # the system's CAs know not this one
    assert "certificate verify failed" in unknown_ca.get("ssl_error", ""), unknown_ca


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it; in CI, its absence is a failure)",
)
def test_a_browser_gets_the_security_headers_and_keeps_to_https_once_it_has_seen_hsts(stack, tmp_path):
    """Headless Chromium (the catalogue page's browser), trusting the stack's CA (an NSS
    database, certutil), opens a public page through the proxy by the name its certificate
    carries (spc.test, mapped to this machine), then the same origin over http: its network log
    shows the answer's headers as it received them, and the second request upgraded to https by
    HSTS before anything went out in clear."""
    assert CHROMIUM, "chromium is not installed: .ci/run installs Debian's package"
    home = tmp_path / "home"
    (home / ".pki/nssdb").mkdir(parents=True)
    nssdb = f"sql:{home / '.pki/nssdb'}"
    run(["certutil", "-d", nssdb, "-N", "--empty-password"])
    run(["certutil", "-d", nssdb, "-A", "-t", "C,,", "-n", "spc-deployment-ca", "-i", str(stack.ca)])
    origin = f"spc.test:{stack.ports['SPC_REGISTRY_HTTPS_PORT']}"
    (tmp_path / "page.html").write_text(f"""<!doctype html><html><body>
<iframe id="first" src="https://{origin}/public/services"></iframe>
<script>document.getElementById("first").onload = function () {{
  var again = document.createElement("iframe"); again.src = "http://{origin}/health/live";
  document.body.appendChild(again); }};</script></body></html>""")
    netlog = tmp_path / "net.json"
    run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP spc.test 127.0.0.1",
            f"--log-net-log={netlog}",
            "--net-log-capture-mode=IncludeSensitive",
            "--timeout=8000",
            "--dump-dom",
            (tmp_path / "page.html").as_uri(),
        ],
        timeout=120,
        env=dict(os.environ, HOME=str(home)),
    )
    import json

    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests_seen = {}  # source id -> [(event, params)]
    for event in log["events"]:
        requests_seen.setdefault(event["source"]["id"], []).append((names.get(event["type"]), event.get("params", {})))
    first = next(
        e
        for e in requests_seen.values()
        if ("URL_REQUEST_START_JOB", {"url": f"https://{origin}/public/services"})
        in [(n, {k: v for k, v in p.items() if k == "url"}) for n, p in e]
    )
    headers = [h for n, p in first if n == "HTTP_TRANSACTION_READ_RESPONSE_HEADERS" for h in p["headers"]]
    assert headers and headers[0].endswith("200 OK"), headers
    assert "X-Content-Type-Options: nosniff" in headers and "Referrer-Policy: no-referrer" in headers
    assert any(h.startswith("Strict-Transport-Security: max-age=") for h in headers), headers
    again = next(
        e
        for e in requests_seen.values()
        if any(n == "URL_REQUEST_START_JOB" and p.get("url") == f"http://{origin}/health/live" for n, p in e)
    )
    assert ("URL_REQUEST_REDIRECT_JOB", {"reason": "HSTS"}) in again, again
    assert any(n == "URL_REQUEST_START_JOB" and p.get("url") == f"https://{origin}/health/live" for n, p in again)


# ---- the story, as staff and outside systems do it -------------------------------------------
def test_the_story_through_the_published_ports_ends_suspended_frozen_and_withdrawn(stack):
    api = stack.api()
    counters(stack)
    sid, tranches = funded_and_listed(api)
    assert api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")["status"] == "released"
    violation(stack, sid)
    start = time.monotonic()
    story.wait_suspended_everywhere(api, sid, released=1)
    print(f"\nviolation published -> suspended, frozen, withdrawn in {time.monotonic() - start:.2f} s")
    STATE["suspended"] = sid
    ledger_check(stack)


def test_prometheus_scrapes_all_four_services(stack):
    url = f"http://127.0.0.1:{stack.ports['SPC_PROMETHEUS_PORT']}/api/v1/targets"

    def targets():
        active = requests.get(url, timeout=10).json()["data"]["activeTargets"]
        return {t["labels"]["instance"]: t["health"] for t in active}

    up = wait_for(
        "every target up",
        lambda: (lambda t: t if set(t.values()) == {"up"} and len(t) == 5 else None)(targets()),
        timeout=120,
        interval=2,
    )
    assert set(up) == {"registry:8001", "funding:8002", "distribution:8003", "audit:8004", "rabbitmq:15692"}


def test_funding_killed_as_a_violation_arrives_catches_up_after_up_with_nothing_paid_twice(stack):
    api = stack.api()
    sid, tranches = funded_and_listed(api)
    api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")
    violation(stack, sid)
    stack.kill("funding")
    stack.up("funding")
    stack.wait_healthy()
    story.wait_suspended_everywhere(api, sid, released=1)
    ledger_check(stack)


def test_the_broker_killed_mid_story_loses_nothing_and_reconcile_is_clean(stack):
    api = stack.api()
    sid, tranches = funded_and_listed(api)
    violation(stack, sid)
    stack.kill("rabbitmq")
    released = api.call("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")
    assert released.status_code in (200, 409), released.text  # before or after the freeze, never lost
    stack.up()
    stack.wait_healthy()
    story.wait_suspended_everywhere(api, sid, released=int(released.status_code == 200), timeout=120)
    summary = ledger_check(stack)
    assert summary["lost"] == 0 and summary["duplicate_payments"] == 0
    reconciled = stack.spc("reconcile", "--wait", "60", SPC_TOKEN=stack.tokens()["viewer"])
    assert re.search(r"\d+ services compared, 0 disagreements", reconciled.stderr), reconciled.stderr


# ---- secrets ----------------------------------------------------------------------------------
def test_a_wrong_broker_password_in_dotenv_stops_the_container_with_one_clear_line(stack):
    right = stack.env["SPC_BROKER_PASSWORD_SPC_REGISTRY"]
    stack.env["SPC_BROKER_PASSWORD_SPC_REGISTRY"] = "not-the-password"
    stack.write_env()
    try:
        stack.up("--no-deps", "registry")
        logs = wait_for(
            "the refusal in registry's log",
            lambda: (lambda out: out if "spc run:" in out else None)(stack.logs("registry", tail=20)),
            timeout=60,
            interval=1,
        )
        line = next(x for x in logs.splitlines() if "spc run:" in x)
        assert "spc-registry" in line and "refused" in line and "not-the-password" not in logs, logs
        print(f"\nregistry with a wrong password: {line}")
        # it exits (code 2) and compose's restart policy starts it again: each try says why, and it
        # is never taken for healthy
        state = wait_for(
            "registry to exit",
            lambda: (lambda s: s if int(s[2]) >= 1 or s[1] == "2" else None)(
                run(
                    [
                        "docker",
                        "inspect",
                        "-f",
                        "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}",
                        stack.container("registry"),
                    ]
                ).stdout.split()
            ),
            timeout=60,
            interval=1,
        )
        assert stack.health("registry") != "healthy", state
    finally:
        stack.env["SPC_BROKER_PASSWORD_SPC_REGISTRY"] = right
        stack.write_env()
        stack.up("--no-deps", "registry")
        stack.wait_healthy()


def test_rotating_a_broker_password_and_a_staff_token_while_events_flow_loses_nothing(stack):
    """docs/deploy.md, "Rotating secrets", as written: `rabbitmqctl change_password`, the new
    password in deploy/.env, the container recreated; the tokens file edited in place."""
    api = stack.api()
    sid, _ = funded_and_listed(api)
    flow = Reports(stack, sid)
    flow.start()
    try:
        new = f"rotated-{uuid.uuid4().hex[:8]}"
        stack.exec("rabbitmq", "rabbitmqctl", "change_password", "spc-audit", new)
        stack.env["SPC_BROKER_PASSWORD_SPC_AUDIT"] = new
        stack.write_env()
        stack.up("--no-deps", "broker-definitions")  # the broker's next boot loads the new password
        assert run(["docker", "wait", stack.container("broker-definitions")]).stdout.strip() == "0"
        stack.up("--no-deps", "audit")
        stack.wait_healthy()

        old = stack.tokens()["auditor"]
        fresh = f"auditor-{uuid.uuid4().hex}"
        path = stack.dir / "admin-tokens"
        path.write_text(path.read_text().replace(f":{old}\n", f":{fresh}\n"))  # in place: same inode
        for name in SPC:
            wait_for(
                f"{name} takes the new token",
                lambda n=name: api.call("GET", n, "/health/ready", None, headers={"Authorization": f"Bearer {fresh}"}).ok,
                timeout=30,
            )
        # the broker restarted: it boots from the rewritten definitions, audit logs in again
        stack.compose("restart", "rabbitmq")
        wait_for("rabbitmq healthy", lambda: stack.health("rabbitmq") == "healthy", timeout=120, interval=1)
        stack.wait_healthy()
        after_restart = len(flow.sent)
        wait_for("reports flowing after the restart", lambda: len(flow.sent) >= after_restart + 10, timeout=60)
    finally:
        flow.stop.set()
        flow.join()
    # a publish during the broker's restart fails and is not counted as sent (the publisher retries
    # in real life); every one the broker confirmed must arrive
    assert len(flow.sent) >= 10 and len(flow.errors) < len(flow.sent), (flow.errors[:3], len(flow.sent))
    staff = stack.api()
    assert staff.tokens["auditor"] == fresh
    for name in ("audit", "registry"):
        assert staff.call("GET", name, "/standings" if name == "registry" else "/reports", "auditor").status_code == 200
        assert staff.call("GET", name, "/standings", None, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    STATE["inbound"] += flow.sent
    summary = ledger_check(stack)
    assert summary["lost"] == 0
    print(f"\nrotations under {len(flow.sent)} reports: {summary}")


# ---- volumes, backups, restore ----------------------------------------------------------------
def test_down_then_up_keeps_the_data(stack):
    api = stack.api()
    sid = STATE["suspended"]
    stack.down()
    stack.up()
    stack.wait_healthy()
    assert api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended"
    assert api.ok("GET", "funding", f"/services/{sid}/funding")["frozen"]
    ledger_check(stack)


def test_a_backup_restored_into_a_fresh_stack_reconciles_clean(stack, tmp_path):
    """docs/deploy.md, "Backups and restore", command by command."""
    api, sid = stack.api(), STATE["suspended"]
    dumps = {}
    for name in SPC:
        dumps[name] = tmp_path / f"{name}.dump"
        stack.compose_bytes("exec", "-T", "postgres", "pg_dump", "-U", "postgres", "-Fc", name, out=dumps[name])
        assert dumps[name].stat().st_size > 1000
    stack.down(volumes=True)
    stack.up("postgres")
    wait_for(
        "postgres past its first-start init",
        lambda: stack.exec("postgres", "pg_isready", "-q", "-h", "127.0.0.1", check=False).returncode == 0,
        timeout=90,
        interval=1,
    )
    tables = stack.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", "registry")
    assert tables == "0", "down -v did not start clean"
    for name in SPC:
        stack.compose_bytes(
            "exec",
            "-T",
            "postgres",
            "pg_restore",
            "-U",
            "postgres",
            "-d",
            name,
            "--role",
            f"spc_{name}",
            "--single-transaction",
            stdin=dumps[name],
        )
    stack.up()
    stack.wait_healthy()
    assert api.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended"
    assert api.ok("GET", "funding", f"/services/{sid}/funding")["frozen"]
    reconciled = stack.spc("reconcile", "--wait", "60", SPC_TOKEN=stack.tokens()["viewer"])
    assert re.search(r"[1-9]\d* services compared, 0 disagreements", reconciled.stderr), reconciled.stderr
    verified = stack.spc("journal", "verify", AUDIT_DATABASE_URL=stack.db_url("audit"))
    import json

    assert json.loads(verified.stdout)["ok"] is True, verified.stdout


def test_the_bundled_counters_load_into_the_running_stack_as_docs_deploy_says(stack):
    """docs/deploy.md: `docker compose ... run --rm --no-deps distribution spc counters import
    --bundled`, the services running; the listings follow for the active services."""
    api = stack.api()
    before = api.ok("GET", "distribution", "/counters?limit=1")["total"]
    done = stack.compose("run", "--rm", "--no-deps", "distribution", "spc", "counters", "import", "--bundled", timeout=600)
    assert "2845 counters imported" in done.stdout, done.stdout + done.stderr
    assert api.ok("GET", "distribution", "/counters?limit=1")["total"] == before + 2_845
