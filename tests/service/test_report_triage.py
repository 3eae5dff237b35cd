"""Citizen reports on the real broker: published as `usager.report_submitted`, enough of them
about one service open a minor finding by themselves (SPC_REPORT_THRESHOLD), announced as
`audit.report_triaged` on spc.events without the citizen's text, which no log line holds either;
the dossier shows the texts to auditors only and a service token only its own; an answered
finding escalated by an auditor suspends the service."""

import json
import logging

from spc.runtime.logs import JsonFormatter
from tests.support import PACT, EventTap, envelope, publish_inbound, wait_for

SECRET = "Mme Morel, née le 3 mars 1961, refusée au guichet"


def test_reports_reaching_the_threshold_open_a_minor_finding_announced_without_their_text(cluster_factory, amqp_uri, caplog):
    caplog.set_level(logging.DEBUG)
    tap = EventTap(amqp_uri)
    _, spc = cluster_factory(("registry", "audit"), SPC_REPORT_THRESHOLD="3", SPC_REPORT_WINDOW_DAYS="7")
    sid = spc.ok("POST", "registry", "/services", "registrar", PACT)["id"]
    spc.ok("POST", "registry", f"/services/{sid}/approve", "registrar")
    wait_for("audit to know the service", lambda: spc.call("GET", "audit", f"/services/{sid}/findings").status_code == 200)
    sent = [
        envelope(
            "usager.report_submitted",
            {"service_id": sid, "category": "refused_access", "text": f"{SECRET} ({i})", "counter_id": "FS-35-0042"},
        )
        for i in range(3)
    ]
    for event in sent:
        publish_inbound(amqp_uri, event, "usager.report_submitted", message_id=event["event_id"])

    findings = wait_for("the threshold's finding", lambda: spc.ok("GET", "audit", f"/services/{sid}/findings")["findings"])
    [finding] = findings
    assert (finding["severity"], finding["principle"], finding["is_violation"]) == ("minor", "equality", False)
    assert finding["opened_by_threshold"] and len(finding["report_ids"]) == 3
    assert spc.ok("GET", "registry", f"/services/{sid}")["status"] == "active"  # never a suspension

    def three_triaged():
        tap.collect(wait=0.2)
        return len(tap.of_type("audit.report_triaged")) == 3 and tap.of_type("audit.report_triaged")

    triaged = wait_for("three audit.report_triaged", three_triaged)
    assert {t["payload"]["outcome"] for t in triaged} == {"finding"}
    assert {t["payload"]["finding_id"] for t in triaged} == {finding["id"]}
    assert {t["payload"]["report_event_id"] for t in triaged} == {e["event_id"] for e in sent}
    tap.drain(quiet=1.0)
    assert tap.events and not any(SECRET in json.dumps(e) for e in tap.events)  # nothing SPC published

    auditor = spc.ok("GET", "audit", f"/services/{sid}/dossier", "auditor")
    assert sorted(r["text"] for r in auditor["reports"]["items"]) == [f"{SECRET} ({i})" for i in range(3)]
    viewer = spc.ok("GET", "audit", f"/services/{sid}/dossier", "viewer")
    assert viewer["reports"]["by_category"] == {"refused_access": 3} and SECRET not in json.dumps(viewer)
    elsewhere = spc.call("GET", "audit", f"/services/{sid}/dossier", "service")  # service/tests
    assert elsewhere.status_code == 403
    listed = spc.ok("GET", "audit", f"/reports?service_id={sid}&status=finding", "auditor")
    assert listed["total"] == 3
    assert spc.call("GET", "audit", "/reports", "viewer").status_code == 403

    # the answer (here by an auditor: the tests' service token is another service's), then escalation
    base = f"/services/{sid}/findings/{finding['id']}"
    plan = {"plan": "Former l'équipe d'accueil", "due_on": "2099-01-31"}
    assert spc.call("POST", "audit", f"{base}/answer", "service", plan).status_code == 403
    assert spc.ok("POST", "audit", f"{base}/answer", "auditor", plan)["answer"]["due_on"] == "2099-01-31"
    assert spc.ok("POST", "audit", f"{base}/done", "auditor", {"note": "Fait"})["answer"]["done_note"] == "Fait"
    escalated = spc.ok("POST", "audit", f"/findings/{finding['id']}/escalate", "auditor", {"reason": "Still refused"})
    assert escalated["is_violation"] and escalated["escalation"]["by"] == "auditor/tests"
    wait_for("the suspension", lambda: spc.ok("GET", "registry", f"/services/{sid}")["status"] == "suspended")

    formatter = JsonFormatter()
    logged = "".join(formatter.format(r) for r in caplog.records) + caplog.text
    assert "usager.report_submitted applied" in logged and SECRET not in logged
