"""`spc reconcile`: do the four services agree on every service's standing?

Each service answers `GET /standings` with its own view (paginated by service id). The registry
is the reference for a service's status and version; funding, distribution and audit must have
caught up with it, and their own state must follow from it. `compare` is pure: it takes the four
views and returns the disagreements.
"""

import time

import requests

SERVICES = ("registry", "funding", "distribution", "audit")


def disagreement(service_id, where, what, **facts):
    return {"service_id": service_id, "where": where, "what": what, **facts}


def compare(views):
    """`views`: {service name: {service_id: standing}}. Returns a list of disagreements."""
    registry, funding = views["registry"], views["funding"]
    distribution, audit = views["distribution"], views["audit"]
    found = []
    for sid, ref in sorted(registry.items()):
        status, version = ref["status"], ref["version"]
        if status == "active" and ref["open_violations"] > 0:
            found.append(disagreement(sid, "registry", "active_with_open_violations", open_violations=ref["open_violations"]))
        if status == "suspended" and ref["open_violations"] == 0:
            found.append(disagreement(sid, "registry", "suspended_without_violation"))
        for name, view in (("funding", funding), ("distribution", distribution), ("audit", audit)):
            mine = view.get(sid)
            if mine is None:
                found.append(disagreement(sid, name, "missing", registry=f"{status} v{version}"))
            elif (mine["status"], mine["version"]) != (status, version):
                found.append(
                    disagreement(
                        sid,
                        name,
                        "standing_differs",
                        registry=f"{status} v{version}",
                        seen=f"{mine['status']} v{mine['version']}",
                    )
                )
        account = funding.get(sid)
        if account is not None:
            tranches = account.get("tranches", {})
            if status in ("suspended", "revoked") and tranches.get("scheduled", 0):
                found.append(disagreement(sid, "funding", "scheduled_tranches_while_" + status, scheduled=tranches["scheduled"]))
            if status == "active" and tranches.get("frozen", 0):
                found.append(disagreement(sid, "funding", "frozen_tranches_while_active", frozen=tranches["frozen"]))
        listed = distribution.get(sid)
        if listed is not None and status != "active" and listed.get("listings", {}).get("published", 0):
            found.append(
                disagreement(sid, "distribution", "published_while_" + status, published=listed["listings"]["published"])
            )
        decisions = audit.get(sid)
        if decisions is not None and (decisions["audit_version"], decisions["open_violations"]) != (
            ref["audit_version"],
            ref["open_violations"],
        ):
            found.append(
                disagreement(
                    sid,
                    "audit",
                    "decisions_differ",
                    registry=f"audit v{ref['audit_version']}, {ref['open_violations']} open",
                    audit=f"audit v{decisions['audit_version']}, {decisions['open_violations']} open",
                )
            )
    for name in ("funding", "distribution", "audit"):
        for sid in sorted(set(views[name]) - set(registry)):
            found.append(disagreement(sid, name, "unknown_to_registry"))
    return found


class StandingsClient:
    def __init__(self, urls, token, timeout=30):
        self.urls, self.timeout = urls, timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def view(self, name):
        items, after = {}, ""
        while True:
            resp = self.session.get(f"{self.urls[name]}/standings", params={"after": after, "limit": 1000}, timeout=self.timeout)
            if resp.status_code == 401:
                said = "no token given" if "Authorization" not in self.session.headers else "the token was refused"
                raise ReconcileError(
                    f"{name}: GET /standings answered 401 ({said}): set SPC_TOKEN "
                    f"(or --token) to a staff token, any role (spc up's own: SPC_TOKEN=$(spc token viewer))"
                )
            if resp.status_code != 200:
                raise ReconcileError(f"{name}: GET /standings answered {resp.status_code}: {resp.text[:300]}")
            page = resp.json()
            items.update((item["service_id"], item) for item in page["items"])
            if not page["next"]:
                return items
            after = page["next"]

    def views(self):
        return {name: self.view(name) for name in SERVICES}


class ReconcileError(Exception):
    pass


def reconcile(client, wait=0.0, interval=1.0):
    """Compare now; with `wait`, keep comparing until there is no disagreement or time is up
    (events still in flight converge). Returns (disagreements, number of services compared)."""
    deadline = time.monotonic() + wait
    while True:
        views = client.views()
        found = compare(views)
        if not found or time.monotonic() >= deadline:
            return found, len(views["registry"])
        time.sleep(interval)
