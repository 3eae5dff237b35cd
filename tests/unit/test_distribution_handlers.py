"""Distribution's use cases on an in-memory unit of work: no database, no broker."""
import pytest

from spc.services.distribution import handlers
from spc.shared.consumer import apply_once
from spc.shared.errors import NotFound
from tests.unit.fakes import FakeDistributionUnitOfWork, standing, wire


@pytest.fixture
def uow():
    return FakeDistributionUnitOfWork()


def counter(counter_id, commune="35238", department="35", name=None):
    return {"counter_id": counter_id, "name": name or f"Espace {counter_id}", "commune_insee": commune,
            "department": department, "address": ""}


def follow(uow, sid, status, version, **kw):
    event = standing(sid, status, version, **kw)
    return apply_once(uow, event, handlers.STANDING_HANDLERS[event.event_type])


def receive(uow, event_type, payload):
    return apply_once(uow, wire(event_type, payload), handlers.COUNTER_HANDLERS[event_type])


def published(uow, sid):
    return [x["counter_id"] for x in handlers.service_listings(uow, sid)["listings"] if x["status"] == "published"]


@pytest.fixture
def network(uow):
    handlers.import_counters(uow, [counter("fs-1"), counter("fs-2", "35047"), counter("fs-9", "29019", "29")],
                             batch=2)
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
    assert network.outbox.events[-1].payload == {"service_id": "s1", "counter_ids": ["fs-1"],
                                                 "reason": "service active (version 2)"}
    assert receive(network, "counter.closed", {"counter_id": "fs-unknown"})  # nothing to close


def test_search_catalogue_and_listings_read_what_was_applied(network):
    follow(network, "s1", "active", 2)
    assert handlers.search_counters(network, department="35")["total"] == 2
    assert handlers.search_counters(network, q="espace fs-9")["items"][0]["id"] == "fs-9"
    assert handlers.counter_catalogue(network, "fs-1")["services"] == [{"service_id": "s1", "name": "Crèche Les Lutins"}]
    with pytest.raises(NotFound):
        handlers.counter_catalogue(network, "fs-404")
    with pytest.raises(NotFound):
        handlers.service_listings(network, "nobody")


def test_standings_count_each_service_s_listings_by_status(network):
    follow(network, "s1", "active", 2)
    follow(network, "s1", "suspended", 3)
    assert handlers.standings(network, "", 10) == [{"service_id": "s1", "status": "suspended", "version": 3,
                                                    "listings": {"withdrawn": 2}}]


def test_an_import_is_attributed_in_the_listings_it_causes(uow):
    follow(uow, "s1", "active", 2)
    uow.actor, uow.correlation_id = "operator/anct-sync", "counters-import-1"  # as `spc counters import`
    handlers.import_counters(uow, [counter("fs-1")])
    [event] = uow.outbox.events
    assert (event.event_type, event.actor, event.correlation_id) == (
        "distribution.listing_published", "operator/anct-sync", "counters-import-1")


def test_an_outside_publisher_cannot_attribute_an_event_to_staff(uow):
    """counter.upserted comes from outside (spc.inbound): an `actor` in its envelope is not carried."""
    from spc.shared.consumer import apply_once
    from tests.unit.fakes import wire
    follow(uow, "s1", "active", 2)
    event = wire("counter.upserted", counter("fs-1"))
    event = type(event)(**{**event.__dict__, "actor": "auditor/forged"})
    apply_once(uow, event, handlers.COUNTER_HANDLERS["counter.upserted"])
    [listing] = uow.outbox.events
    assert listing.event_type == "distribution.listing_published" and listing.actor is None
