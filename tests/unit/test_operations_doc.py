"""docs/operations.md stays complete (every metric of shared/observe/metrics.py, with its type and labels,
and every alert of deploy/prometheus/alerts.yml), and the alert rules are valid: Prometheus's own
checker when it is installed (.ci/run installs it), their structure and the metrics they name
always."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from spc.runtime.config import SERVICE_NAMES
from spc.shared.observe.metrics import ServiceMetrics

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
ALERTS = ROOT / "deploy/prometheus/alerts.yml"


def declared():
    """(name as exported, with `<svc>` for the service, type, labels) of every metric."""
    metrics = ServiceMetrics("svc")
    for family in metrics.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        metric = next(m for m in vars(metrics).values() if getattr(m, "_name", None) == family.name)
        yield name.replace("spc_svc_", "spc_<svc>_"), family.type, metric._labelnames


def doc_row(name):
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"{name} has no row (or several) in the table of docs/operations.md"
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_every_metric_is_in_the_operations_doc_with_its_type_labels_and_alert():
    names = []
    for name, kind, labels in declared():
        names.append(name)
        _, doc_kind, doc_labels, meaning, alert = doc_row(name)
        assert doc_kind == kind, (name, doc_kind, kind)
        assert set(re.findall(r"`([a-z_]+)`", doc_labels)) == set(labels), (name, doc_labels, labels)
        assert meaning and alert, name
    assert len(names) >= 17


def rules():
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_the_alert_rules_are_well_formed_and_each_is_explained():
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(doc) == {"groups"}
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))
    for group in doc["groups"]:
        assert group["name"] and group["rules"]
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule
        assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0s")), rule
        assert f"| `{rule['alert']}` |" in DOC, f"{rule['alert']} is not in the alerts table of docs/operations.md"
    # what the brief of an operator asks for, at least
    for needed in (
        "SpcOutboxLag",
        "SpcDeadLetterQueueNotEmpty",
        "SpcDeadLettered",
        "SpcFundingFrozen",
        "SpcDatabaseWaits",
        "SpcParkedFacts",
        "SpcHttpUndeclaredErrors",
        "SpcHttp5xx",
        "SpcNotReady",
        "SpcServiceDown",
    ):
        assert needed in names, needed


def test_every_spc_metric_an_alert_names_is_one_the_services_export():
    exported = set()
    for service in SERVICE_NAMES:
        for family in ServiceMetrics(service).registry.collect():
            exported |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count"}
    for rule in rules():
        expr = rule["expr"]
        for literal in re.findall(r"\b(spc_[a-z_]+)\b", expr):
            assert literal in exported, (literal, expr)
        for pattern in re.findall(r'__name__=~"([^"]+)"', expr):
            assert any(re.fullmatch(pattern, name) for name in exported), (pattern, expr)


def test_prometheus_loads_the_rules_compose_gives_it(tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs it (Debian package prometheus)")
        pytest.skip("promtool is not installed here (apt-get install prometheus)")
    done = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # the configuration compose mounts, with the rules file where compose mounts it
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["prometheus"]["volumes"] if v.startswith("./"))
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == [mounts["./prometheus/alerts.yml"]]
    config["rule_files"] = [str(ALERTS)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout, done.stdout
    # the one deploy/compose.lanes.yaml mounts in its place (the urgent lanes' containers too)
    lanes = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.lanes.yml").read_text())
    lanes["rule_files"] = [str(ALERTS)]
    (tmp_path / "prometheus.lanes.yml").write_text(yaml.safe_dump(lanes))
    done = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.lanes.yml")], capture_output=True, text=True)
    assert done.returncode == 0 and f"SUCCESS: {len(rules())} rules found" in done.stdout, done.stdout + done.stderr

    # the doc's `alerting:` example, added as it says
    block = re.search(r"<!-- alerting example -->\n```yaml\n(.*?)^```", DOC, re.S | re.M).group(1)
    config.update(yaml.safe_load(block))
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


PROMTOOL_TEST = """
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # funding answers 2 requests a second, one of which a 500; audit's readiness answers 503
      - series: 'spc_funding_http_requests_total{{job="spc",instance="funding:8002",method="POST",status="500"}}'
        values: '0+60x20'
      - series: 'spc_funding_http_requests_total{{job="spc",instance="funding:8002",method="GET",status="200"}}'
        values: '0+60x20'
      - series: 'spc_audit_http_requests_total{{job="spc",instance="audit:8004",method="GET",status="503"}}'
        values: '0+6x20'
      - series: 'spc_audit_http_requests_total{{job="spc",instance="audit:8004",method="GET",status="200"}}'
        values: '0+60x20'
      - series: 'spc_funding_holdings{{job="spc",instance="funding:8002",kind="tranche_cents",status="frozen"}}'
        values: '1250000x90'
      - series: 'spc_audit_dead_lettered_total{{job="spc",instance="audit:8004",queue="audit.reports",reason="schema_error"}}'
        values: '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'
      - series: 'spc_registry_auth_refusals_total{{job="spc",instance="registry:8001",reason="unknown_token"}}'
        values: '0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5 10 15 20 25 30 40 60 80'
      - series: 'spc_funding_dead_lettered_total{{job="spc",instance="funding:8002",queue="funding.events",reason="wrong_producer"}}'
        values: '0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 1 1 1'
      - series: 'spc_registry_outbox_lag_seconds{{job="spc",instance="registry:8001"}}'
        values: '0 0 120x20'
    alert_rule_test:
      - eval_time: 10m
        alertname: SpcHttp5xx
        exp_alerts:
          - exp_labels: {{severity: critical, job: spc, instance: "funding:8002"}}
            exp_annotations:
              summary: "funding:8002 answers 50% of its requests with a 5xx"
              description: "Unhandled errors: the log has their traceback (logger spc.shared.web.http) and the request's line (spc.http, status 500)."
      - eval_time: 10m
        alertname: SpcNotReady
        exp_alerts:
          - exp_labels: {{severity: critical, job: spc, instance: "audit:8004"}}
            exp_annotations:
              summary: "audit:8004 says it is not ready"
              description: "Its database or broker is unreachable, or its consumers are not consuming, for 3 minutes (GET /health/ready shows which)."
      - eval_time: 4m
        alertname: SpcDeadLettered
        exp_alerts:
          - exp_labels: {{severity: warning, job: spc, instance: "audit:8004", queue: audit.reports, reason: schema_error}}
            exp_annotations:
              summary: "audit:8004 dead-lettered messages from audit.reports (schema_error)"
              description: "`spc dlq list` shows them with their reason; fix the cause, then `spc dlq replay`."
      - eval_time: 20m
        alertname: SpcDeadLettered
        exp_alerts: []
      - eval_time: 20m
        alertname: SpcForgedEvent
        exp_alerts: []
      - eval_time: 52m
        alertname: SpcAuthFailureBurst
        exp_alerts: []
      - eval_time: 58m
        alertname: SpcAuthFailureBurst
        exp_alerts:
          - exp_labels: {{severity: warning, job: spc, instance: "registry:8001"}}
            exp_annotations:
              summary: "registry:8001 refused 60 staff requests with no or an unknown token in 5 minutes"
              description: "Someone is guessing tokens, or a client lost its own: the spc.auth log lines name the client and the route (never the token); past SPC_AUTH_FAILURES_PER_MINUTE a client is answered 429."
      - eval_time: 43m
        alertname: SpcForgedEvent
        exp_alerts:
          - exp_labels: {{severity: critical, job: spc, instance: "funding:8002", queue: funding.events}}
            exp_annotations:
              summary: "funding:8002 refused an event from the wrong producer in funding.events"
              description: "An SPC event claimed to come from a service that does not produce it (docs/security.md): `spc dlq list` shows it; find who put it there (its queue, the broker's connection logs)."
      - eval_time: 30m
        alertname: SpcFundingFrozen
        exp_alerts: []
      - eval_time: 75m
        alertname: SpcFundingFrozen
        exp_alerts:
          - exp_labels: {{severity: info}}
            exp_annotations:
              summary: "12500 euros of tranches are frozen"
              description: "Services suspended after a confirmed violation: resolve their findings (audit) or revoke them (registry)."
      - eval_time: 5m
        alertname: SpcOutboxLag
        exp_alerts: []
      - eval_time: 10m
        alertname: SpcOutboxLag
        exp_alerts:
          - exp_labels: {{severity: critical, job: spc, instance: "registry:8001"}}
            exp_annotations:
              summary: "registry:8001: its oldest unsent event is 2m 0s old"
              description: "The outbox relay cannot publish (broker away or refusing): the other services do not hear of its changes."
"""


def test_the_alerts_fire_when_they_should(tmp_path):
    """promtool's rule tests on made-up series: a 500 is a 5xx but a 503 is readiness, a dead
    letter alerts once, frozen funding after an hour, the outbox lag after 5 minutes."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/run installs it (Debian package prometheus)")
        pytest.skip("promtool is not installed here (apt-get install prometheus)")
    test = tmp_path / "alerts.test.yml"
    test.write_text(PROMTOOL_TEST.format(rules=ALERTS))
    done = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
