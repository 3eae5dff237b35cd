"""docs/integrating.md, "Try it on your machine first", as an integrator does it on the real
RabbitMQ: `spc definitions --vhost ... --passwords-from-env --load ...` makes a vhost of their own
with SPC's topology and users; the page's Python publisher, taken from the page itself, publishes
as `ext-inspection` with confirms and the event waits in audit's queue; a type that user does not
own is refused by the broker (403), as in deployment; then step 3 as the page writes it (bash):
`spc up` there, each service as its own confined broker user, and audit takes the violation."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from spc.shared.messaging import topology
from tests.servers import AMQP_BASE, RABBIT_API, unique
from tests.support import envelope, wait_for

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/integrating.md").read_text(encoding="utf-8")
API = RABBIT_API.rsplit("/api", 1)[0]
HOST = AMQP_BASE.split("@", 1)[1]


def publisher_code():
    return re.search(r"<!-- python publisher -->\n```python\n(.*?)^```", DOC, re.S | re.M).group(1)


def users():
    return {u["name"] for u in requests.get(f"{RABBIT_API}/users", timeout=10).json()}


@pytest.fixture
def try_vhost():
    vhost, before = unique("spc_try"), users()
    yield vhost
    requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=30)
    for user in users() - before:  # only those this test made
        requests.delete(f"{RABBIT_API}/users/{user}", timeout=10)


def test_an_integrator_tries_publishing_on_a_local_vhost_as_the_page_says(tmp_path, try_vhost):
    assert "spc definitions --vhost spc-try --passwords-from-env --load http://guest:guest@127.0.0.1:15672" in DOC
    secrets = {
        "SPC_BROKER_PASSWORD_EXT_INSPECTION": "pw-inspection-0123",
        **{f"SPC_BROKER_PASSWORD_SPC_{s}": f"pw-{s.lower()}-4567" for s in ("REGISTRY", "FUNDING", "DISTRIBUTION", "AUDIT")},
    }
    env = dict(os.environ, **secrets)
    loaded = subprocess.run(
        [sys.executable, "-m", "spc.cli", "definitions", "--vhost", try_vhost, "--passwords-from-env", "--load", API],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith(f"loaded into vhost '{try_vhost}'") and loaded.stdout.endswith(
        "may log in (a password from SPC_BROKER_PASSWORD_<USER>): spc-registry, spc-funding, spc-distribution, "
        "spc-audit, ext-inspection\n"
    ), loaded.stdout
    queues = {q["name"] for q in requests.get(f"{RABBIT_API}/queues/{quote(try_vhost, safe='')}", timeout=10).json()}
    assert {q.name for q in topology.CONSUMER_QUEUES} <= queues

    script = tmp_path / "publish.py"
    script.write_text(publisher_code(), encoding="utf-8")
    inspector = f"amqp://ext-inspection:{secrets['SPC_BROKER_PASSWORD_EXT_INSPECTION']}@{HOST}/{try_vhost}"
    violation = tmp_path / "violation.json"
    event = envelope(
        "compliance.violation_reported",
        {
            "service_id": "svc_0123456789abcdef0123456789abcdef",
            "principle": "no_ad_monetisation",
            "severity": "major",
            "summary": "Advertising sold",
            "reported_by": "inspection-35",
        },
    )
    del event["event_id"]  # the publisher makes one
    violation.write_text(json.dumps(event), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(violation)],
        env=dict(env, AMQP_URI=inspector),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"published compliance\.violation_reported [0-9a-f-]{36} \(confirmed by the broker\)\n", done.stdout), (
        done.stdout
    )

    def waiting():
        queue = requests.get(f"{RABBIT_API}/queues/{quote(try_vhost, safe='')}/audit.compliance", timeout=10).json()
        return queue.get("messages") == 1

    wait_for("the violation in audit's queue", waiting)

    # another system's type: the broker refuses ext-inspection, as in deployment
    counter = tmp_path / "counter.json"
    counter.write_text(json.dumps(envelope("counter.closed", {"counter_id": "fs-1"})), encoding="utf-8")
    refused = subprocess.run(
        [sys.executable, str(script), str(counter)], env=dict(env, AMQP_URI=inspector), capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "ACCESS_REFUSED" in refused.stderr, refused.stderr

    # step 3 as written: SPC there, each service as its own confined user; audit takes the violation
    from spc.cli.local import ensure_local_tokens
    from tests.e2e.test_cli_errors import service_env
    from tests.e2e.test_spc_up_local import ready

    ensure_local_tokens({"SPC_DATA_DIR": str(tmp_path / "var")})
    step = DOC[DOC.index("# 3. SPC on that vhost") : DOC.index("# 4. publish as your system")]
    assert step.rstrip().endswith("AMQP_URI=$REGISTRY_AMQP_URI spc up"), step
    script = (
        step.replace("spc-try", try_vhost)
        .replace("127.0.0.1:5672", HOST)
        .replace("AMQP_URI=$REGISTRY_AMQP_URI spc up", "AMQP_URI=$REGISTRY_AMQP_URI exec spc up --no-counters")
    )
    ports, up_env = service_env(tmp_path)
    up_env = dict(up_env, **secrets, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    for variable in ("AMQP_URI", "SPC_DATA_DIR", "SPC_ADMIN_TOKENS_FILE", "SPC_ADMIN_TOKENS"):
        up_env.pop(variable, None)
    up = subprocess.Popen(
        ["bash", "-c", script], env=up_env, cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        ready(up, ports)
        wait_for(
            "audit to hold the violation for its unknown service",
            lambda: (
                " 1.0"
                in next(
                    (
                        line
                        for line in requests.get(f"http://127.0.0.1:{ports['audit']}/metrics", timeout=5).text.splitlines()
                        if line.startswith("spc_audit_parked_facts")
                    ),
                    "",
                )
            ),
        )
        wait_for(
            "each service logged in as its own user (the management API lags by seconds)",
            lambda: (
                {"spc-registry", "spc-funding", "spc-distribution", "spc-audit"}
                <= {
                    c["user"]
                    for c in requests.get(f"{RABBIT_API}/vhosts/{quote(try_vhost, safe='')}/connections", timeout=10).json()
                }
            ),
        )
    finally:
        up.terminate()
        log = up.communicate(timeout=60)[0]
    assert "Traceback" not in log, log[-3000:]


def test_loading_into_an_unreachable_or_refusing_api_is_one_line(try_vhost):
    for api, expected in (
        ("http://guest:guest@127.0.0.1:1", "cannot be reached"),
        (API.replace("guest:guest@", "guest:wrong@"), "refused user 'guest' (401)"),
        ("amqp://guest:guest@127.0.0.1:5672", "--load takes the management API's URL"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "spc.cli", "definitions", "--vhost", try_vhost, "--load", api],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 2 and len(lines) == 1 and expected in lines[0], result.stderr
