"""Replays the example request of every operation in openapi.yaml, in the order of the story the
examples tell (spc/generate/examples.py), putting in the ids the system gives out. Returns what each
answer was, and the real ids, for the tests that need a populated system."""

import json

from spc.generate.examples import EXAMPLE_IDS
from spc.shared.core.events import event_types
from tests.support import SECOND_FUNDING_OFFICER, envelope, publish_inbound, wait_for

from .document import operations

STORY = [  # (service, method, path), in the order a newcomer would call them
    ("registry", "POST", "/services"),
    ("registry", "POST", "/services/{service_id}/approve"),
    ("registry", "GET", "/services/{service_id}"),
    ("registry", "GET", "/services"),
    ("registry", "POST", "/services/{service_id}/amendments"),
    ("registry", "POST", "/services/{service_id}/amendments/{amendment_id}/reject"),
    ("registry", "POST", "/services/{service_id}/amendments/{amendment_id}/approve"),  # (a new one, proposed again)
    ("registry", "GET", "/services/{service_id}/amendments"),
    ("registry", "GET", "/services/{service_id}/pact"),
    # an application from Démarches Simplifiées (its dossier waits in the DS the tests run)
    ("registry", "POST", "/ds/webhook/{secret}"),
    ("registry", "GET", "/ds/dossiers"),
    ("registry", "POST", "/ds/dossiers/{number}/retry"),
    ("funding", "POST", "/programmes"),
    ("funding", "GET", "/programmes"),
    ("funding", "GET", "/programmes/{programme_id}"),
    ("funding", "POST", "/grants"),
    ("funding", "POST", "/tranches/{tranche_id}/release"),
    ("funding", "GET", "/services/{service_id}/funding"),
    # two people for money: a request for the second tranche, turned down; another, approved
    ("funding", "POST", "/programmes/{programme_id}/budget"),
    ("funding", "POST", "/approvals"),
    ("funding", "GET", "/approvals"),
    ("funding", "GET", "/approvals/{approval_id}"),
    ("funding", "POST", "/approvals/{approval_id}/reject"),
    ("funding", "POST", "/approvals/{approval_id}/approve"),  # (a budget raise, asked by a second officer)
    ("funding", "POST", "/grants/{grant_id}/revoke"),  # (what the grant still had to pay: the second tranche)
    ("distribution", "GET", "/counters"),
    ("distribution", "GET", "/counters/{counter_id}/catalogue"),
    ("distribution", "GET", "/counters/{counter_id}/catalogue.html"),
    ("distribution", "POST", "/counters/{counter_id}/reports"),
    ("distribution", "GET", "/services/{service_id}/listings"),
    ("audit", "GET", "/reports"),  # (once the relayed report has reached audit)
    ("audit", "POST", "/reports/{report_id}/dismiss"),
    ("audit", "POST", "/findings"),
    ("audit", "GET", "/services/{service_id}/findings"),
    ("audit", "POST", "/services/{service_id}/findings/{finding_id}/answer"),
    ("audit", "POST", "/services/{service_id}/findings/{finding_id}/done"),
    ("audit", "GET", "/services/{service_id}/dossier"),
    ("audit", "POST", "/findings/{finding_id}/resolve"),
    ("audit", "POST", "/findings/{finding_id}/escalate"),  # (a minor finding, recorded for it)
    # what anyone may read, no token: the service (suspended by the escalation), its money, the counters
    ("registry", "GET", "/public/services"),
    ("registry", "GET", "/public/services/{service_id}"),
    ("funding", "GET", "/public/services/{service_id}/funding"),
    ("funding", "GET", "/public/programmes"),
    ("funding", "GET", "/public/programmes/{programme_id}"),
    ("distribution", "GET", "/public/counters"),
    ("distribution", "GET", "/public/counters/{counter_id}/catalogue"),
    # the same, as pages anyone reads (French, the State design system) and the design system's files
    ("registry", "GET", "/public/pages/services/{service_id}"),
    ("funding", "GET", "/public/pages/services/{service_id}/funding"),
    ("registry", "GET", "/public/dsfr/{asset_path}"),
    ("funding", "GET", "/public/dsfr/{asset_path}"),
    ("distribution", "GET", "/public/dsfr/{asset_path}"),
    ("audit", "GET", "/journal/verify"),
    # what falls due: the pact's term (registry), the milestones (funding), the remediations (audit)
    ("registry", "GET", "/services/{service_id}/agenda"),
    ("funding", "GET", "/services/{service_id}/agenda"),
    ("audit", "GET", "/services/{service_id}/agenda"),
    ("registry", "POST", "/services/{service_id}/revoke"),
]


def _example_event(event_type):
    return next(t.example for t in event_types() if t.name == event_type)


def _swap(value, ids):
    """The example with its placeholder ids replaced by the real ones."""
    text = json.dumps(value)
    for placeholder, real in ids.items():
        text = text.replace(placeholder, real)
    return json.loads(text)


def replay(api, amqp_uri):
    """Every example, in story order; returns ({operation key: response}, real ids by name)."""
    ops = {op.key: op for op in operations()}
    counter = _example_event("counter.upserted")
    publish_inbound(amqp_uri, envelope("counter.upserted", counter), "counter.upserted")
    wait_for(
        "the example counter",
        lambda: api.call("GET", "distribution", f"/counters/{counter['counter_id']}/catalogue").status_code == 200,
    )
    ids = {EXAMPLE_IDS["counter_id"]: counter["counter_id"]}
    answers = {}
    for key in STORY:
        op = ops[key]
        body = op.op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
        path = _swap(op.url_path(**EXAMPLE_IDS), ids)
        if key == ("distribution", "GET", "/counters/{counter_id}/catalogue"):
            wait_for(
                "the service listed at the counter", lambda op=op, path=path: api.call("GET", op.service, path).json()["services"]
            )
        if key == ("registry", "POST", "/services/{service_id}/amendments/{amendment_id}/approve"):
            proposed = ops[("registry", "POST", "/services/{service_id}/amendments")]
            again = api.call(
                "POST",
                "registry",
                _swap(proposed.url_path(**EXAMPLE_IDS), ids),
                role="registrar",
                body=_swap(proposed.op["requestBody"]["content"]["application/json"]["example"], ids),
            )
            ids[EXAMPLE_IDS["amendment_id"]] = again.json()["id"]
            path = _swap(op.url_path(**EXAMPLE_IDS), ids)
        if key == ("funding", "POST", "/approvals/{approval_id}/approve"):
            asked = api.call(
                "POST",
                "funding",
                "/approvals",
                role=None,
                body={
                    "action": "budget_raise",
                    "target_id": ids[EXAMPLE_IDS["programme_id"]],
                    "budget_cents": 70_000_000,
                    "reason": "Décision modificative n° 3",
                },
                headers={"Authorization": f"Bearer {SECOND_FUNDING_OFFICER}"},
            )
            assert asked.status_code == 201, asked.text
            ids[EXAMPLE_IDS["approval_id"]] = asked.json()["id"]
            path = _swap(op.url_path(**EXAMPLE_IDS), ids)
        if key == ("audit", "GET", "/reports"):
            found = wait_for(
                "the relayed report at audit", lambda path=path: api.call("GET", "audit", path, role="auditor").json()["items"]
            )
            ids[EXAMPLE_IDS["report_id"]] = found[0]["id"]
        if key == ("audit", "POST", "/findings/{finding_id}/escalate"):
            recorded = ops[("audit", "POST", "/findings")]
            minor = dict(_swap(recorded.op["requestBody"]["content"]["application/json"]["example"], ids), severity="minor")
            ids[EXAMPLE_IDS["finding_id"]] = api.call("POST", "audit", "/findings", role="auditor", body=minor).json()["id"]
            path = _swap(op.url_path(**EXAMPLE_IDS), ids)
        response = api.call(op.method, op.service, path, role=_role(op), body=_swap(body, ids) if body else None)
        assert response.status_code == op.success, f"{op}: {response.status_code} {response.text[:500]}"
        op.check_answer(response)
        answers[key] = response
        payload = response.json() if response.headers["Content-Type"].startswith("application/json") else {}
        if key == ("registry", "POST", "/services"):
            ids[EXAMPLE_IDS["service_id"]] = payload["id"]
        elif key == ("registry", "POST", "/services/{service_id}/amendments"):
            ids[EXAMPLE_IDS["amendment_id"]] = payload["id"]
        elif key == ("funding", "POST", "/programmes"):
            ids[EXAMPLE_IDS["programme_id"]] = payload["id"]
        elif key == ("funding", "POST", "/grants"):
            ids[EXAMPLE_IDS["tranche_id"]] = payload["tranches"][0]["id"]
            ids[EXAMPLE_IDS["grant_id"]] = payload["id"]
            second_tranche = payload["tranches"][1]["id"]
        elif key == ("funding", "POST", "/tranches/{tranche_id}/release"):
            ids[EXAMPLE_IDS["tranche_id"]] = second_tranche  # released: what follows is about the second
        elif key == ("funding", "POST", "/approvals"):
            ids[EXAMPLE_IDS["approval_id"]] = payload["id"]
        elif key == ("audit", "POST", "/findings"):
            ids[EXAMPLE_IDS["finding_id"]] = payload["id"]
    return answers, {name: ids.get(placeholder, placeholder) for name, placeholder in EXAMPLE_IDS.items()}


def _role(op):
    """The public reads are called with no token at all."""
    return None if op.role == "public" else "viewer" if op.role == "any" else op.role
