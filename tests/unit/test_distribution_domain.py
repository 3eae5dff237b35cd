"""Distribution rules, with nothing running."""
from spc.services.distribution.domain.model import Counter, DistributedService, Listing


def reconcile(service, counters, listings):
    """(new listings, events recorded) of one reconciliation."""
    created = service.reconcile(counters, listings)
    return created, service.pull_events()


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


def test_a_counter_update_says_whether_its_listings_must_change():
    from spc.services.distribution.domain.model import Counter
    counter = Counter("fs-1", "Espace", "35238", "35")
    assert counter.update("Espace France services", "35238", "35", "1 rue X") is False  # renamed only
    assert counter.update("Espace", "35047", "35") is True                               # moved
    counter.open = False
    assert counter.update("Espace", "35047", "35") is True                               # reopened
    assert counter.open


def test_a_commune_belongs_to_its_department_overseas_too():
    from spc.services.distribution.domain.model import department_of
    assert [department_of(c) for c in ("35238", "2A004", "97411", "98735")] == ["35", "2A", "974", "987"]
