"""The deployment files, checked offline (no Docker engine here): the Dockerfile by hadolint, the
compose file by docker-compose's own parser with the values of deploy/.env.example."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def tool(name):
    found = shutil.which(name)
    if found is None and os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing: .ci/run installs it")
    if found is None:
        pytest.skip(f"{name} is not installed here (.ci/run installs it)")
    return found


def test_the_dockerfile_passes_hadolint():
    done = subprocess.run([tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_is_valid_with_the_example_settings(tmp_path):
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copy(copy / ".env.example", copy / ".env")
    shutil.copy(copy / "admin-tokens.example", copy / "admin-tokens")
    done = subprocess.run(
        [tool("docker-compose"), "-f", str(copy / "compose.yaml"), "config", "-q"], cwd=copy, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_secret_is_committed():
    ignored = (DEPLOY.parent / ".gitignore").read_text().split()
    assert "deploy/.env" in ignored and "deploy/admin-tokens" in ignored
    assert "deploy/certs/" in ignored  # the deployment's CA key and the servers' keys
    assert "change-me" in (DEPLOY / ".env.example").read_text()


def test_every_spc_metric_the_dashboard_plots_is_one_the_services_export():
    import json
    import re
    from spc.runtime.config import SERVICE_NAMES
    from spc.shared.observe.metrics import ServiceMetrics

    exported = set()
    for service in SERVICE_NAMES:
        for family in ServiceMetrics(service).registry.collect():
            exported |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count"}
    dashboard = json.loads((DEPLOY / "grafana/dashboards/spc-overview.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    for expr in exprs:
        for literal in re.findall(r"\b(spc_[a-z_]+)\b", expr):
            assert literal in exported, (literal, expr)
        for pattern in re.findall(r'__name__=~"([^"]+)"', expr):
            assert any(re.fullmatch(pattern, name) for name in exported), (pattern, expr)


def test_the_services_log_one_json_object_a_line_under_compose_and_kubernetes():
    import yaml
    from spc.runtime.config import SERVICE_NAMES

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in SERVICE_NAMES:
        assert compose["services"][name]["environment"]["SPC_LOG_FORMAT"] == "json", name
    (config,) = [
        o
        for o in yaml.safe_load_all((DEPLOY / "k8s/base/spc.yaml").read_text())
        if o and o["kind"] == "ConfigMap" and o["metadata"]["name"] == "spc-config"
    ]
    assert config["data"]["SPC_LOG_FORMAT"] == "json"


def test_compose_passes_the_trace_settings_to_every_service_and_the_example_documents_them():
    """docs/operations.md, "Traces": OTEL_EXPORTER_OTLP_ENDPOINT in deploy/.env reaches each service
    (empty by default: no trace), and so do the sampler's settings, in both compose files."""
    import yaml
    from spc.runtime.config import SERVICE_NAMES

    example = dict(
        line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines() if line and not line.startswith("#")
    )
    assert example["OTEL_EXPORTER_OTLP_ENDPOINT"] == "" and example["OTEL_TRACES_SAMPLER"]
    for file, names in (("compose.yaml", SERVICE_NAMES), ("compose.lanes.yaml", [f"{n}-urgent" for n in SERVICE_NAMES])):
        services = yaml.safe_load((DEPLOY / file).read_text())["services"]
        for name in names:
            env = services[name]["environment"]
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}", (file, name)
            assert env["OTEL_TRACES_SAMPLER"].startswith("${OTEL_TRACES_SAMPLER:-"), (file, name)


def test_compose_and_kubernetes_default_to_the_rabbitmq_line_the_deploy_tests_run_on():
    """Production's RabbitMQ is the line tests/deploy/test_compose_stack.py runs SPC on (4.0, every
    deprecated feature refused); 3.10 stays tried by tests/deploy/test_rabbitmq_310_and_upgrade.py."""
    import re
    import yaml
    from spc.generate.kubernetes import RABBITMQ_IMAGE

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["rabbitmq"]["image"] == "${SPC_RABBITMQ_IMAGE:-%s}" % RABBITMQ_IMAGE
    (cluster,) = [
        o
        for o in yaml.safe_load_all((DEPLOY / "k8s/operators/rabbitmq.yaml").read_text())
        if o and o["kind"] == "RabbitmqCluster"
    ]
    assert cluster["spec"]["image"] == RABBITMQ_IMAGE
    images = (DEPLOY.parent / "scripts/images").read_text()
    line = re.search(r"rabbitmq:(\d+\.\d+)-management", RABBITMQ_IMAGE).group(1)
    assert f"SPC_RABBITMQ_IMAGE=${{IMAGE[rabbitmq{line.replace('.', '')}]}}" in images
    env_example = (DEPLOY / ".env.example").read_text()
    assert f"SPC_RABBITMQ_IMAGE={RABBITMQ_IMAGE}\n" in env_example


def test_the_urgent_lanes_overlay_runs_each_service_twice_with_the_same_settings(tmp_path):
    """deploy/compose.lanes.yaml: each service's first container takes the bulk lanes, its
    <service>-urgent container the urgent ones, with the same command and settings otherwise (so
    the two never drift apart), no published port; the bulk one weighs less for the CPU than the
    urgent one (its default weight); Prometheus scrapes both; docker-compose merges it over
    compose.yaml."""
    import yaml

    base = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    lanes = yaml.safe_load((DEPLOY / "compose.lanes.yaml").read_text())["services"]
    for name in ("registry", "funding", "distribution", "audit"):
        assert lanes[name] == {"environment": {"SPC_LANES": "bulk"}, "cpu_shares": 128}
        urgent = lanes[f"{name}-urgent"]
        assert "cpu_shares" not in urgent and "cpu_shares" not in base[name]  # Docker's 1,024
        assert urgent["command"] == base[name]["command"] + ["--lanes", "urgent"]
        assert urgent["environment"] == base[name]["environment"]
        assert urgent["depends_on"] == base[name]["depends_on"] and "ports" not in urgent
        for key in ("image", "read_only", "tmpfs", "stop_grace_period", "secrets", "restart"):
            assert key in urgent, key
        assert urgent["volumes"] == base[name]["volumes"]  # the broker's CA
    scrape = yaml.safe_load((DEPLOY / "prometheus/prometheus.lanes.yml").read_text())
    single = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == single["scrape_configs"][0]["static_configs"][0]["targets"] + [
        "registry-urgent:8001",
        "funding-urgent:8002",
        "distribution-urgent:8003",
        "audit-urgent:8004",
    ]
    assert scrape["scrape_configs"][1:] == single["scrape_configs"][1:]

    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copy(copy / ".env.example", copy / ".env")
    shutil.copy(copy / "admin-tokens.example", copy / "admin-tokens")
    done = subprocess.run(
        [tool("docker-compose"), "-f", str(copy / "compose.yaml"), "-f", str(copy / "compose.lanes.yaml"), "config"],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    merged = yaml.safe_load(done.stdout)["services"]
    assert merged["audit"]["environment"]["SPC_LANES"] == "bulk" and merged["audit"]["ports"]
    assert merged["audit"]["cpu_shares"] == 128 and "cpu_shares" not in merged["audit-urgent"]
    assert merged["audit-urgent"]["command"] == ["spc", "run", "audit", "--lanes", "urgent"]
    assert [
        v["source"] if isinstance(v, dict) else v.split(":")[0]
        for v in merged["prometheus"]["volumes"]
        if "prometheus.yml" in str(v)
    ] == [str(copy / "prometheus/prometheus.lanes.yml")]
