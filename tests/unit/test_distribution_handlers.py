"""Distribution's use cases on an in-memory unit of work: no database, no broker."""

import pytest

from spc.services.distribution import handlers
from spc.shared.messaging.consumer import apply_once
from spc.shared.core.errors import NotFound
from tests.unit.fakes import FakeDistributionUnitOfWork, standing, wire


@pytest.fixture
def uow():
    return FakeDistributionUnitOfWork()


def counter(counter_id, commune="35238", department="35", name=None, **more):
    return {
        "counter_id": counter_id,
        "name": name or f"Espace {counter_id}",
        "commune_insee": commune,
        "department": department,
        "address": "",
        **more,
    }


def follow(uow, sid, status, version, **kw):
    event = standing(sid, status, version, **kw)
    return apply_once(uow, event, handlers.STANDING_HANDLERS[event.event_type])


def receive(uow, event_type, payload):
    return apply_once(uow, wire(event_type, payload), handlers.COUNTER_HANDLERS[event_type])


def published(uow, sid):
    return [x["counter_id"] for x in handlers.service_listings(uow, sid)["listings"] if x["status"] == "published"]


@pytest.fixture
def network(uow):
    handlers.import_counters(uow, [counter("fs-1"), counter("fs-2", "35047"), counter("fs-9", "29019", "29")], batch=2)
    return uow


def test_an_approved_service_is_listed_at_every_open_counter_of_its_territory(network):
    follow(network, "s1", "active", 2)
    assert published(network, "s1") == ["fs-1", "fs-2"]
    [event] = network.outbox.events
    assert event.event_type == "distribution.listing_published" and event.payload["counter_ids"] == ["fs-1", "fs-2"]


def test_suspension_withdraws_every_listing_and_reinstatement_republishes(network):
    follow(network, "s1", "active", 2)
    follow(network, "s1", "suspended", 3)
    assert published(network, "s1") == []
    follow(network, "s1", "active", 4)
    assert published(network, "s1") == ["fs-1", "fs-2"]
    assert network.outbox.types()[1:] == ["distribution.listing_withdrawn", "distribution.listing_published"]


def test_a_stale_standing_changes_nothing(network):
    follow(network, "s1", "suspended", 3)
    follow(network, "s1", "active", 2)  # the approval arrives after the suspension
    assert published(network, "s1") == [] and network.outbox.events == []


def test_a_new_counter_lists_the_active_services_covering_it_and_a_move_out_withdraws_them(network):
    follow(network, "s1", "active", 2)
    receive(network, "counter.upserted", counter("fs-3", "35051"))
    assert published(network, "s1") == ["fs-1", "fs-2", "fs-3"]
    receive(network, "counter.upserted", counter("fs-3", "29019", "29"))  # the counter moved
    assert published(network, "s1") == ["fs-1", "fs-2"]


def test_a_renamed_counter_keeps_its_listings_without_a_new_event(network):
    follow(network, "s1", "active", 2)
    before = len(network.outbox.events)
    receive(network, "counter.upserted", counter("fs-1", name="Espace Maurepas"))
    assert len(network.outbox.events) == before
    assert handlers.counter_catalogue(network, "fs-1")["counter"]["name"] == "Espace Maurepas"


def test_a_closed_counter_loses_its_listings(network):
    follow(network, "s1", "active", 2)
    receive(network, "counter.closed", {"counter_id": "fs-1"})
    assert published(network, "s1") == ["fs-2"]
    assert network.outbox.events[-1].payload == {
        "service_id": "s1",
        "counter_ids": ["fs-1"],
        "reason": "service active (version 2)",
    }
    assert receive(network, "counter.closed", {"counter_id": "fs-unknown"})  # nothing to close


def at(event_type, payload, minutes):
    """The event as sent `minutes` after a fixed moment (its occurred_at)."""
    from datetime import datetime, timedelta, timezone

    from spc.shared.core import envelope

    sent = envelope.Event(
        event_type, payload, "anct", occurred_at=datetime(2026, 12, 5, 9, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    )
    return envelope.parse(envelope.to_bytes(sent), event_type)


def test_a_counter_change_older_than_the_one_applied_is_skipped(network):
    """Counter events carry no version: the later of two changes of one counter wins by its
    occurred_at, whichever is handled last (a retried one, two workers)."""
    follow(network, "s1", "active", 2)
    moved_out, moved_back = counter("fs-1", "29019", "29"), counter("fs-1")
    apply_once(network, at("counter.upserted", moved_back, 2), handlers.on_counter_upserted)
    apply_once(network, at("counter.upserted", moved_out, 1), handlers.on_counter_upserted)  # older: skipped
    assert handlers.counter_catalogue(network, "fs-1")["counter"]["department"] == "35"
    assert published(network, "s1") == ["fs-1", "fs-2"]
    apply_once(network, at("counter.closed", {"counter_id": "fs-1"}, 0), handlers.on_counter_closed)  # older too
    assert published(network, "s1") == ["fs-1", "fs-2"]
    apply_once(network, at("counter.closed", {"counter_id": "fs-1"}, 3), handlers.on_counter_closed)
    apply_once(network, at("counter.upserted", moved_back, 2), handlers.on_counter_upserted)  # a copy, late
    assert published(network, "s1") == ["fs-2"]
    handlers.import_counters(network, [moved_back])  # the directory's file: no time, always applied
    assert published(network, "s1") == ["fs-1", "fs-2"]


def test_a_later_close_of_a_closed_counter_still_counts_and_a_future_time_counts_as_now(network):
    from datetime import datetime, timedelta, timezone

    from spc.shared.core import envelope

    follow(network, "s1", "active", 2)
    closed = {"counter_id": "fs-1"}
    apply_once(network, at("counter.closed", closed, 2), handlers.on_counter_closed)
    apply_once(network, at("counter.closed", closed, 4), handlers.on_counter_closed)  # closed already
    apply_once(network, at("counter.upserted", counter("fs-1"), 3), handlers.on_counter_upserted)  # older than 4
    assert published(network, "s1") == ["fs-2"]
    in_a_year = datetime.now(timezone.utc) + timedelta(days=365)  # a publisher's wrong clock
    wrong = envelope.Event("counter.upserted", counter("fs-1"), "anct", occurred_at=in_a_year)
    apply_once(network, envelope.parse(envelope.to_bytes(wrong), "counter.upserted"), handlers.on_counter_upserted)
    assert published(network, "s1") == ["fs-1", "fs-2"]
    now = envelope.Event("counter.closed", closed, "anct")  # the next real change is not skipped
    apply_once(network, envelope.parse(envelope.to_bytes(now), "counter.closed"), handlers.on_counter_closed)
    assert published(network, "s1") == ["fs-2"]


def test_search_catalogue_and_listings_read_what_was_applied(network):
    follow(network, "s1", "active", 2)
    assert handlers.search_counters(network, department="35")["total"] == 2
    assert handlers.search_counters(network, q="espace fs-9")["items"][0]["id"] == "fs-9"
    assert [(s["service_id"], s["name"]) for s in handlers.counter_catalogue(network, "fs-1")["services"]] == [
        ("s1", "Crèche Les Lutins")
    ]
    with pytest.raises(NotFound):
        handlers.counter_catalogue(network, "fs-404")
    with pytest.raises(NotFound):
        handlers.service_listings(network, "nobody")


def test_standings_count_each_service_s_listings_by_status(network):
    follow(network, "s1", "active", 2)
    follow(network, "s1", "suspended", 3)
    assert handlers.standings(network, "", 10) == [
        {"service_id": "s1", "status": "suspended", "version": 3, "listings": {"withdrawn": 2}}
    ]


def test_an_import_is_attributed_in_the_listings_it_causes(uow):
    follow(uow, "s1", "active", 2)
    uow.actor, uow.correlation_id = "operator/anct-sync", "counters-import-1"  # as `spc counters import`
    handlers.import_counters(uow, [counter("fs-1")])
    [event] = uow.outbox.events
    assert (event.event_type, event.actor, event.correlation_id) == (
        "distribution.listing_published",
        "operator/anct-sync",
        "counters-import-1",
    )


def test_an_outside_publisher_cannot_attribute_an_event_to_staff(uow):
    """counter.upserted comes from outside (spc.inbound): an `actor` in its envelope is not carried."""
    from spc.shared.messaging.consumer import apply_once
    from tests.unit.fakes import wire

    follow(uow, "s1", "active", 2)
    event = wire("counter.upserted", counter("fs-1"))
    event = type(event)(**{**event.__dict__, "actor": "auditor/forged"})
    apply_once(uow, event, handlers.COUNTER_HANDLERS["counter.upserted"])
    [listing] = uow.outbox.events
    assert listing.event_type == "distribution.listing_published" and listing.actor is None


# ---- matching by area served (issue 11), with real COG codes -----------------------------------
def follow_territory(uow, sid, version, event_type="registry.service_approved", status="active", **territories):
    event = wire(
        event_type,
        {"service_id": sid, "name": "Relais petite enfance", "status": status, "version": version, "territories": territories},
    )
    return apply_once(uow, event, handlers.STANDING_HANDLERS[event.event_type])


def test_a_service_on_a_commune_reaches_the_counters_of_its_canton_as_they_open(uow):
    """Betton (35024), Saint-Grégoire (35278) and Cesson-Sévigné (35051): canton 3503."""
    handlers.import_counters(uow, [counter("fs-849", "35278"), counter("fs-212", "35238")])
    follow_territory(uow, "s1", 2, communes=["35024"])
    assert published(uow, "s1") == ["fs-849"]
    receive(uow, "counter.upserted", counter("fs-new", "35051"))  # same canton
    receive(uow, "counter.upserted", counter("fs-bruz", "35047"))  # canton 3504
    assert published(uow, "s1") == ["fs-849", "fs-new"]


def test_a_paris_arrondissement_service_is_listed_at_every_paris_counter(uow):
    handlers.import_counters(
        uow, [counter("fs-18e", "75118", "75"), counter("fs-20e", "75120", "75"), counter("fs-montreuil", "93048", "93")]
    )
    follow_territory(uow, "s1", 2, communes=["75111"])
    assert published(uow, "s1") == ["fs-18e", "fs-20e"]


def test_an_amendment_to_a_region_relists_the_service_there(uow):
    """registry.pact_amended extends a service of 06 to région 94: Corsica's counters list it."""
    handlers.import_counters(
        uow, [counter("fs-ajaccio", "2A004", "2A"), counter("fs-bastia", "2B033", "2B"), counter("fs-nice", "06088", "06")]
    )
    follow_territory(uow, "s1", 2, departments=["06"])
    assert published(uow, "s1") == ["fs-nice"]
    follow_territory(uow, "s1", 3, "registry.pact_amended", regions=["94"])
    assert published(uow, "s1") == ["fs-ajaccio", "fs-bastia"]


def test_a_national_service_is_listed_at_a_counter_opening_in_mayotte(uow):
    follow_territory(uow, "s1", 2, national=True)
    receive(uow, "counter.upserted", counter("fs-mamoudzou", "97611", "976"))
    assert published(uow, "s1") == ["fs-mamoudzou"]
    follow_territory(uow, "s1", 3, "registry.service_expired", status="expired", national=True)
    assert published(uow, "s1") == []


def test_in_martinique_a_commune_reaches_the_counters_of_its_arrondissement(uow):
    handlers.import_counters(uow, [counter("fs-lamentin", "97213", "972"), counter("fs-basse-pointe", "97203", "972")])
    follow_territory(uow, "s1", 2, communes=["97209"])  # Fort-de-France: arrondissement 9721, no canton
    assert published(uow, "s1") == ["fs-lamentin"]


@pytest.mark.parametrize(
    "commune, department, named",
    [
        ("99999", "99", "unknown commune '99999'"),
        ("2A999", "2A", "unknown commune '2A999'"),
        ("75056", "35", "commune '75056' (Paris) is in département 75, not 35"),
    ],
)
def test_a_counter_in_a_place_the_cog_refutes_is_dead_lettered_naming_the_code(commune, department, named):
    from spc.shared.core.errors import Rejection

    with pytest.raises(Rejection) as refused:
        wire("counter.upserted", counter("fs-x", commune, department))
    assert refused.value.code == "schema_error:payload.commune_insee" and refused.value.message == named


@pytest.mark.parametrize(
    "commune, department, format, named",
    [
        ("76540", "27", "fixe", "commune '76540' (Rouen) is in département 76, not 27"),
        ("76540", "27", "fixe_antennes", "commune '76540' (Rouen) is in département 76, not 27"),
        ("99999", "27", "bus", "unknown commune '99999'"),
        ("76540", "99", "itinerante", "unknown département '99'"),
    ],
)
def test_only_a_mobile_counter_may_serve_another_departement_than_its_commune_s(commune, department, format, named):
    from spc.shared.core.errors import Rejection

    with pytest.raises(Rejection) as refused:
        wire("counter.upserted", counter("fs-x", commune, department, format=format))
    assert refused.value.code == "schema_error:payload.commune_insee" and refused.value.message == named


def test_a_bus_of_the_eure_based_in_rouen_is_listed_by_the_eure_s_services_not_rouen_s(uow):
    follow_territory(uow, "s-eure", 2, departments=["27"])
    follow_territory(uow, "s-rouen", 2, communes=["76540"])
    receive(uow, "counter.upserted", counter("1820", "76540", "27", format="bus"))
    assert published(uow, "s-eure") == ["1820"] and published(uow, "s-rouen") == []
    assert handlers.counter_catalogue(uow, "1820")["counter"]["format"] == "bus"


def test_a_counter_without_a_format_is_fixed(uow):
    receive(uow, "counter.upserted", counter("fs-1"))
    assert handlers.counter_catalogue(uow, "fs-1")["counter"]["format"] == "fixe"


def test_the_counters_import_refuses_the_same_places_and_accepts_a_former_commune():
    from spc.services.distribution.anct_csv import read_counters_text

    text = (
        "id_fs,insee_dep,lib_fs,adresse,insee_com,latitude,longitude\n"
        "1,49,France services Orée-d'Anjou,Champtoceaux,49069,,\n"  # a former commune
        "2,35,France services Rennes,Rennes,75056,,\n"
        "3,35,France services Nowhere,,35999,,\n"
    )
    rows, problems = read_counters_text(text)
    assert [r["commune_insee"] for r in rows] == ["49069"]
    assert problems == [
        (3, {"commune_insee": ["commune '75056' (Paris) is in département 75, not 35"]}),
        (4, {"commune_insee": ["unknown commune '35999'"]}),
    ]


def test_the_counters_import_reads_the_format_and_accepts_a_bus_based_in_another_departement():
    from spc.services.distribution.anct_csv import read_counters_text

    text = (
        "id_fs,insee_dep,lib_fs,adresse,insee_com,latitude,longitude,format_fs\n"
        "1820,27,Bus France services Espace numérique 27,Rouen,76540,,,Bus_équivalent\n"  # line 1452
        "1,35,France services Rennes,Rennes,35238,,,Fixe\n"
        "2,35,France services Rennes,Rennes,35238,,,\n"
        "3,35,France services Ligné,Ligné,35152,,,Fixe_antenne(s)\n"
        "4,27,France services Rouen,Rouen,76540,,,Fixe\n"
        "5,35,France services Rennes,Rennes,35238,,,Hélicoptère\n"
    )
    rows, problems = read_counters_text(text)
    assert [(r["counter_id"], r["format"]) for r in rows] == [
        ("1820", "bus"),
        ("1", "fixe"),
        ("2", "fixe"),
        ("3", "fixe_antennes"),
    ]
    assert [(line, list(reason)) for line, reason in problems] == [(6, ["commune_insee"]), (7, ["format"])]
