"""Distribution rules, with nothing running."""
from spc.services.distribution.domain.model import Counter, DistributedService, Listing, reconcile


def counters():
    return [Counter("a", "A", "35238", "35"), Counter("b", "B", "35047", "35"), Counter("c", "C", "29019", "29")]


def service(status="active", version=2, departments=("35",), communes=()):
    s = DistributedService("s1")
    s.apply_standing("Crèche", status, version, {"departments": list(departments), "communes": list(communes)})
    return s


def test_an_active_service_is_listed_at_every_counter_of_its_departments():
    created, events = reconcile(service(), counters(), {})
    assert sorted(l.counter_id for l in created) == ["a", "b"]
    assert events[0].event_type == "distribution.listing_published" and events[0].counter_ids == ["a", "b"]


def test_a_commune_in_the_territory_counts_too():
    created, _ = reconcile(service(departments=(), communes=("29019",)), counters(), {})
    assert [l.counter_id for l in created] == ["c"]


def test_suspension_withdraws_every_listing_and_reinstatement_republishes():
    listings = {"a": Listing("s1", "a"), "b": Listing("s1", "b")}
    suspended = service("suspended", 3)
    _, events = reconcile(suspended, counters(), listings)
    assert {l.status for l in listings.values()} == {"withdrawn"}
    assert events[0].event_type == "distribution.listing_withdrawn"
    suspended.apply_standing("Crèche", "active", 4, {"departments": ["35"]})
    created, events = reconcile(suspended, counters(), listings)
    assert created == [] and {l.status for l in listings.values()} == {"published"}


def test_a_closed_counter_loses_its_listing():
    closed = counters()[0]
    closed.open = False
    listings = {"a": Listing("s1", "a")}
    reconcile(service(), [closed], listings)
    assert listings["a"].status == "withdrawn"


def test_a_stale_standing_is_ignored():
    s = service("suspended", 5)
    assert not s.apply_standing("Crèche", "active", 4, {"departments": ["35"]})
    assert s.status == "suspended"


def test_reconciling_twice_changes_nothing_the_second_time():
    listings = {}
    created, _ = reconcile(service(), counters(), listings)
    listings = {l.counter_id: l for l in created}
    assert reconcile(service(), counters(), listings) == ([], [])
