"""The other RabbitMQ line SPC still runs on (3.10, out of support: docs/deploy.md), and an upgrade
without loss: the stack starts on RabbitMQ 3.10 with the image of the previous release (the commit
before issue 24, SPC_UPGRADE_FROM to choose another), runs the story, then each SPC container is
replaced by the new image, its migration first, while citizens' reports flow. Nothing is lost,
nothing paid twice, and the journal, begun by the old release, still verifies."""

import json
import os
import subprocess
import time

import pytest

from tests.deploy.stack import ROOT, SPC, Reports, Stack, build_image, run, standin_images
from tests.faults import story
from tests.faults.ledger import Ledger
from tests.support import envelope, publish_inbound, wait_for

pytestmark = pytest.mark.timeout(900)
PREVIOUS = os.environ.get("SPC_UPGRADE_FROM", "bc985e8ccef1ec8c3379c8cc20f4530189bb088f")
STATE = {"inbound": []}


def previous_image(tmp_path):
    """The image of PREVIOUS, built once (kept by its tag). Its Dockerfile named
    python:3.11-slim in FROM: the stand-in base is put there, nothing else changes."""
    tag = f"spc:previous-{PREVIOUS[:12]}"
    if run(["docker", "image", "inspect", tag], check=False).returncode == 0:
        return tag
    if run(["git", "-C", str(ROOT), "cat-file", "-e", f"{PREVIOUS}^{{commit}}"], check=False).returncode:
        pytest.fail(f"commit {PREVIOUS} is not in this clone (a shallow clone?): git fetch --unshallow")
    source = tmp_path / "previous"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", PREVIOUS], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    dockerfile = source / "deploy/Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("FROM python:3.11-slim", f"FROM {standin_images()['SPC_PYTHON_IMAGE']}"))
    print(f"\nprevious release's image built in {build_image(tag, context=source):.1f} s")
    return tag


@pytest.fixture(scope="module")
def old_stack(spc_image, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("upgrade")
    old = previous_image(tmp)
    st = Stack(
        tmp, old, rabbitmq_image=standin_images()["SPC_RABBITMQ_310_IMAGE"], overrides=("compose.from-cleartext.yaml",)
    )  # deploy/'s, as docs/deploy.md says
    st.env.update(SPC_CERTIFICATES_IMAGE=spc_image, SPC_AMQP_SCHEME="amqp", SPC_AMQP_INNER_PORT="5672")
    st.write_env()
    start = time.monotonic()
    try:
        st.up()
        st.wait_healthy()
        print(f"\nRabbitMQ 3.10, previous image: all four healthy {time.monotonic() - start:.1f} s after up")
        yield st
    finally:
        print(st.logs(tail=40))
        st.down(volumes=True)


def publish(st, user, event):
    publish_inbound(st.amqp(user), event, event["event_type"], message_id=event["event_id"])
    STATE["inbound"].append((event["event_id"], event["event_type"]))


def test_the_story_runs_on_rabbitmq_310(old_stack):
    st, api = old_stack, old_stack.api()
    assert st.exec("rabbitmq", "rabbitmqctl", "version").stdout.strip().startswith("3.10")
    for cid, com in (("fs-a", "35238"), ("fs-b", "35047")):
        publish(
            st,
            "ext-france-services-directory",
            envelope(
                "counter.upserted", {"counter_id": cid, "name": cid, "commune_insee": com, "department": "35", "address": ""}
            ),
        )
    sid = story.active_service(api)
    tranches = story.funded(api, sid)
    wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"}, timeout=60)
    api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")
    publish(
        st,
        "ext-inspection",
        envelope(
            "compliance.violation_reported",
            {
                "service_id": sid,
                "principle": "neutrality",
                "severity": "major",
                "summary": "Proselytism",
                "reported_by": "inspection-35",
            },
        ),
    )
    story.wait_suspended_everywhere(api, sid, released=1)
    STATE["suspended"] = sid


def test_each_container_replaced_by_the_new_image_while_reports_flow_loses_nothing(old_stack, spc_image):
    st, api = old_stack, old_stack.api()
    sid = story.active_service(api)
    tranches = story.funded(api, sid)
    flow = Reports(st, sid)
    flow.start()
    try:
        st.env.update(SPC_IMAGE=spc_image, SPC_AMQP_SCHEME="amqps", SPC_AMQP_INNER_PORT="5671")
        st.write_env()  # the new image speaks TLS to the broker
        for name in SPC:  # docs/deploy.md, "Upgrades": the migration step first, then the service
            st.up("--no-deps", f"migrate-{name}")
            code = run(["docker", "wait", st.container(f"migrate-{name}")], timeout=120).stdout.strip()
            assert code == "0", st.logs(f"migrate-{name}")
            st.up("--no-deps", name)
            st.wait_healthy((name,))
            if name == "funding":  # staff keep working across the upgrade
                api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")
    finally:
        flow.stop.set()
        flow.join()
    assert not flow.errors and len(flow.sent) >= 10, (flow.errors[:3], len(flow.sent))
    for name in SPC:
        image = run(["docker", "inspect", "-f", "{{.Config.Image}}", st.container(name)]).stdout.strip()
        assert image == spc_image, (name, image)
    users = {c["user"]: c["ssl"] for c in st.management("connections") if c["user"].startswith("spc-")}
    assert users == {f"spc-{name}": True for name in SPC} | ({"spc-admin": True} if "spc-admin" in users else {}), users
    STATE["inbound"] += flow.sent
    ledger = Ledger(st.db_urls())
    try:
        summary = ledger.check(STATE["inbound"], timeout=120)
    finally:
        ledger.close()
    assert summary["lost"] == 0 and summary["duplicate_payments"] == 0 and summary["payments"] == 2, summary
    print(f"\nupgrade under {len(flow.sent)} reports: {summary}")
    assert api.ok("GET", "registry", f"/services/{STATE['suspended']}")["status"] == "suspended"
    verified = st.spc("journal", "verify", AUDIT_DATABASE_URL=st.db_url("audit"))
    result = json.loads(verified.stdout)
    assert result["ok"] is True and result["length"] >= summary["journal"], result
