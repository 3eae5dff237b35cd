"""`spc reconcile`'s comparison: each rule fails when the views disagree."""

from spc.cli.reconcile import compare


def views(registry=None, funding=None, distribution=None, audit=None):
    sid = "s1"
    base = {
        "registry": {sid: {"service_id": sid, "status": "suspended", "version": 3, "audit_version": 1, "open_violations": 1}},
        "funding": {sid: {"service_id": sid, "status": "suspended", "version": 3, "tranches": {"released": 1, "frozen": 2}}},
        "distribution": {sid: {"service_id": sid, "status": "suspended", "version": 3, "listings": {"withdrawn": 2}}},
        "audit": {sid: {"service_id": sid, "status": "suspended", "version": 3, "audit_version": 1, "open_violations": 1}},
    }
    for name, change in (("registry", registry), ("funding", funding), ("distribution", distribution), ("audit", audit)):
        if change == "missing":
            base[name] = {}
        elif change:
            base[name][sid].update(change)
    return base


def what(found):
    return sorted((d["where"], d["what"]) for d in found)


def test_agreeing_views_have_no_disagreement():
    assert compare(views()) == []


def test_a_service_behind_on_the_standing_is_reported():
    assert what(compare(views(funding={"status": "active", "version": 2, "tranches": {"released": 1, "scheduled": 2}}))) == [
        ("funding", "scheduled_tranches_while_suspended"),
        ("funding", "standing_differs"),
    ]
    assert what(compare(views(distribution={"version": 2}))) == [("distribution", "standing_differs")]
    assert what(compare(views(audit={"status": "active", "version": 2}))) == [("audit", "standing_differs")]


def test_listings_published_while_suspended_are_reported():
    assert what(compare(views(distribution={"listings": {"published": 1, "withdrawn": 1}}))) == [
        ("distribution", "published_while_suspended")
    ]


def test_frozen_tranches_of_an_active_service_are_reported():
    found = compare(
        views(
            registry={"status": "active", "version": 4, "open_violations": 0, "audit_version": 2},
            funding={"status": "active", "version": 4},
            distribution={"status": "active", "version": 4, "listings": {"published": 2}},
            audit={"status": "active", "version": 4, "audit_version": 2, "open_violations": 0},
        )
    )
    assert what(found) == [("funding", "frozen_tranches_while_active")]


def test_audit_and_registry_disagreeing_on_decisions_are_reported():
    assert what(compare(views(audit={"audit_version": 2, "open_violations": 0}))) == [("audit", "decisions_differ")]


def test_the_registry_breaking_the_rule_itself_is_reported():
    assert what(
        compare(
            views(
                registry={"status": "active"},
                funding={"status": "active", "tranches": {}},
                distribution={"status": "active", "listings": {}},
                audit={"status": "active"},
            )
        )
    ) == [("registry", "active_with_open_violations")]


def test_missing_and_unknown_services_are_reported():
    assert what(compare(views(funding="missing", audit="missing"))) == [("audit", "missing"), ("funding", "missing")]
    found = compare(views(registry="missing"))
    assert what(found) == [
        ("audit", "unknown_to_registry"),
        ("distribution", "unknown_to_registry"),
        ("funding", "unknown_to_registry"),
    ]
