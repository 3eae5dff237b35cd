"""Distribution rules, with nothing running."""

from spc.services.distribution.domain.model import Counter, DistributedService, Listing


def reconcile(service, counters, listings):
    """(new listings, events recorded) of one reconciliation."""
    created = service.reconcile(counters, listings)
    return created, service.pull_events()


def counters():
    return [Counter("a", "A", "35238", "35"), Counter("b", "B", "35047", "35"), Counter("c", "C", "29019", "29")]


def service(status="active", version=2, departments=("35",), communes=(), **more):
    s = DistributedService("s1")
    s.apply_standing("Crèche", status, version, dict(more, departments=list(departments), communes=list(communes)))
    return s


def listed_at(territories, places):
    """The counters (commune, département) a service with `territories` is listed at."""
    at = [Counter(f"{commune}@{dep}", "France services", commune, dep) for commune, dep in places]
    created, _ = reconcile(service(**dict({"departments": ()}, **territories)), at, {})
    return [listing.counter_id.split("@")[0] for listing in created]


def test_an_active_service_is_listed_at_every_counter_of_its_departments():
    created, events = reconcile(service(), counters(), {})
    assert sorted(listing.counter_id for listing in created) == ["a", "b"]
    assert events[0].event_type == "distribution.listing_published" and events[0].counter_ids == ["a", "b"]


def test_a_commune_in_the_territory_counts_too():
    created, _ = reconcile(service(departments=(), communes=("29019",)), counters(), {})
    assert [listing.counter_id for listing in created] == ["c"]


def test_a_service_on_a_commune_is_listed_at_the_counters_of_its_canton_only():
    """Betton (35024) is in canton 3503 with Saint-Grégoire (35278, a France services counter) and
    Cesson-Sévigné (35051); Rennes (35238, pseudo-canton 3598) and Bruz (35047, canton 3504) are not."""
    places = [("35278", "35"), ("35051", "35"), ("35238", "35"), ("35047", "35"), ("29019", "29")]
    assert listed_at({"communes": ["35024"]}, places) == ["35051", "35278"]


def test_rennes_is_its_own_canton_so_a_rennes_service_stays_in_rennes():
    """INSEE gives a commune split over several cantons one pseudo-canton: 3598 is Rennes alone."""
    places = [("35238", "35"), ("35278", "35"), ("35047", "35")]
    assert listed_at({"communes": ["35238"]}, places) == ["35238"]


def test_a_paris_arrondissement_serves_every_counter_of_paris():
    """75111 (Paris 11e) is in Paris' pseudo-canton 7599, with every arrondissement; not Montreuil (93048)."""
    places = [("75118", "75"), ("75120", "75"), ("75056", "75"), ("93048", "93")]
    assert listed_at({"communes": ["75111"]}, places) == ["75056", "75118", "75120"]


def test_a_region_covers_its_departements_corsica_included():
    places = [("2A004", "2A"), ("2B033", "2B"), ("06088", "06")]  # Ajaccio, Bastia, Nice
    assert listed_at({"regions": ["94"]}, places) == ["2A004", "2B033"]


def test_a_national_service_is_listed_everywhere_mayotte_included():
    places = [("97608", "976"), ("97611", "976"), ("35238", "35"), ("2A004", "2A")]
    assert sorted(listed_at({"national": True}, places)) == ["2A004", "35238", "97608", "97611"]


def test_without_cantons_martinique_falls_back_to_the_arrondissement():
    """Fort-de-France (97209) and Le Lamentin (97213) are in arrondissement 9721; Basse-Pointe
    (97203) in 9722."""
    places = [("97213", "972"), ("97209", "972"), ("97203", "972")]
    assert listed_at({"communes": ["97209"]}, places) == ["97209", "97213"]


def test_an_unknown_commune_serves_nowhere():
    assert listed_at({"communes": ["35999"]}, [("35238", "35")]) == []


def test_a_service_s_areas_are_derived_from_its_territory():
    s = service(departments=("35",), communes=("97209", "75111"), regions=["94"])
    assert s.areas == ["arrondissement:9721", "canton:7599", "department:2A", "department:2B", "department:35"]
    assert service(national=True).areas == ["national"]
    assert service(departments=()).areas == []


def test_suspension_withdraws_every_listing_and_reinstatement_republishes():
    listings = {"a": Listing("s1", "a"), "b": Listing("s1", "b")}
    suspended = service("suspended", 3)
    _, events = reconcile(suspended, counters(), listings)
    assert {listing.status for listing in listings.values()} == {"withdrawn"}
    assert events[0].event_type == "distribution.listing_withdrawn"
    suspended.apply_standing("Crèche", "active", 4, {"departments": ["35"]})
    created, events = reconcile(suspended, counters(), listings)
    assert created == [] and {listing.status for listing in listings.values()} == {"published"}


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


def test_the_places_a_standing_change_locks_are_its_departements_or_the_whole_country():
    from spc.services.distribution.domain.model import places_touched

    assert places_touched({"departments": ["35"], "communes": ["2A004", "97209"]}, {"regions": ["94"]}) == (
        ["2A", "2B", "35", "972"],
        False,
    )
    assert places_touched({"communes": ["35238"]}, {"national": True})[1] is True


def test_reconciling_twice_changes_nothing_the_second_time():
    listings = {}
    created, _ = reconcile(service(), counters(), listings)
    listings = {listing.counter_id: listing for listing in created}
    assert reconcile(service(), counters(), listings) == ([], [])


def test_a_counter_update_says_whether_its_listings_must_change():
    from spc.services.distribution.domain.model import Counter

    counter = Counter("fs-1", "Espace", "35238", "35")
    assert counter.update("Espace France services", "35238", "35", "1 rue X") is False  # renamed only
    assert counter.update("Espace", "35047", "35") is True  # moved
    counter.open = False
    assert counter.update("Espace", "35047", "35") is True  # reopened
    assert counter.open and counter.area == "canton:3504"


def test_a_counter_s_area_is_its_commune_s_canton():
    areas = {
        c: Counter("x", "X", c, d).area
        for c, d in [("35238", "35"), ("75111", "75"), ("49069", "49"), ("97213", "972"), ("97502", "975")]
    }
    assert areas == {
        "35238": "canton:3598",
        "75111": "canton:7599",
        "49069": "canton:4916",  # former commune
        "97213": "arrondissement:9721",
        "97502": "department:975",
    }


def test_a_mobile_counter_based_outside_its_departement_serves_the_whole_departement():
    bus = Counter("1820", "Bus France services Espace numérique 27", "76540", "27", format="bus")
    assert (bus.area, bus.format) == ("department:27", "bus")


def test_a_commune_belongs_to_its_department_overseas_too():
    from spc.services.distribution.domain.model import department_of

    assert [department_of(c) for c in ("35238", "2A004", "97411", "98735")] == ["35", "2A", "974", "987"]


# -- found by the mutation run (docs/mutation.md) ----------------------------------------------------


def read_back(text):
    """A string equal to `text` but not the same object, as a status read from the database is."""
    return "".join(list(text))


def test_a_replayed_standing_of_the_same_version_is_ignored():
    s = service(version=2)
    assert s.apply_standing("Crèche", "suspended", 2, {"departments": ["35"]}) is False
    assert s.status == "active"


def test_a_territory_that_does_not_say_national_is_not_national():
    s = DistributedService("s1")
    s.apply_standing("Crèche", "active", 1, {"departments": ["35"]})
    assert s.national is False
    assert [listing.counter_id for listing in s.reconcile(counters(), {})] == ["a", "b"]


def test_a_listing_already_withdrawn_is_not_withdrawn_again():
    s = service()
    listings = {
        "a": Listing("s1", "a", status=read_back("withdrawn")),  # in its territory: published again
        "b": Listing("s1", "b"),
        "c": Listing("s1", "c", status=read_back("withdrawn")),
    }  # outside it: stays withdrawn, unsaid
    created, events = reconcile(s, counters(), listings)
    assert created == [] and [(e.event_type, e.counter_ids) for e in events] == [("distribution.listing_published", ["a"])]
    assert {k: v.status for k, v in listings.items()} == {"a": "published", "b": "published", "c": "withdrawn"}


def test_a_published_listing_read_back_is_not_published_again():
    s = service()
    listings = {"a": Listing("s1", "a", status=read_back("published")), "b": Listing("s1", "b", status=read_back("published"))}
    assert reconcile(s, counters(), listings) == ([], [])


def test_a_published_listing_read_back_outside_the_territory_is_withdrawn():
    s = service()
    listings = {"c": Listing("s1", "c", status=read_back("published"))}
    created, events = reconcile(s, counters(), listings)
    assert [(e.event_type, e.counter_ids) for e in events] == [
        ("distribution.listing_published", ["a", "b"]),
        ("distribution.listing_withdrawn", ["c"]),
    ]
    assert listings["c"].status == "withdrawn"
