"""Distribution's use cases: one transaction each, events committed with the change."""

from spc.shared.core import events
from spc.shared.messaging import topology
from spc.shared.core.dispatch import BULK, URGENT, Consumes
from spc.shared.core.lists import whole
from spc.shared.core.answers import out
from spc.shared.core.clock import to_db, utcnow

from .domain.model import Counter, DistributedService, RelayedReport, places_touched
from .exceptions import ServiceNotKnown
from .schemas import CatalogueOut, CounterPage, ListingsOut, RelayedReportOut


def on_service_standing(uow, event):
    """registry.service_* and registry.pact_amended: follow the newest standing and reconcile the
    service's listings over the areas it serves (see domain.model)."""
    p = event.payload
    repo = uow.distribution
    # the places of the territory it has now and of the one the row says it had, in order, before
    # the row's lock (an amendment that moves it must not take a place after the row: two such
    # events, or a counter change beside one, would wait on each other); then the row's own
    # places again (held already, unless it moved between the two reads: repository.lock_places)
    known = repo.service(p["service_id"])
    repo.lock_places(*places_touched(p["territories"], known.territories if known else {}))
    service = repo.service(p["service_id"], for_update=True, create=True)
    repo.lock_places(*places_touched(service.territories))
    profile = {k: p.get(k) for k in DistributedService.PROFILE}
    indexed = list(service.areas)
    if not service.apply_standing(p["name"], p["status"], p["version"], p["territories"], profile):
        return
    repo.index(service, indexed)
    # a service that may not be listed is withdrawn from wherever it is: no counter is read
    counters = repo.counters_in(service) if service.listable else ()
    repo.add_all(service.reconcile(counters, repo.listings_of(service.service_id)))


def upsert_counter(uow, data, at=None):
    """A counter opens or changes (a change that happened `at`: its event's time; None, the
    directory's file): list the active services now covering it, withdraw others. A change older
    than the one the counter holds is skipped."""
    repo = uow.distribution
    repo.lock_counters([data["counter_id"]])  # then read as the last change of it left it
    counter = repo.counter(data["counter_id"], required=False)
    at = _no_later_than_now(at)
    if counter is not None and counter.stale(at):
        return
    repo.lock_counter_places([data["department"]] + ([counter.department] if counter else []))
    fields = {
        k: data.get(k) for k in ("name", "commune_insee", "department", "address", "lat", "lon", "format", *Counter.DETAILS)
    }
    fields["address"], fields["format"] = fields["address"] or "", fields["format"] or "fixe"
    if counter is None:
        counter = Counter(data["counter_id"], **fields)
        repo.add(counter)
        moved = True
    else:
        moved = counter.update(**fields)
    counter.changed_at = at  # None (the file): of unknown time, so the next event is applied
    if moved:  # else the same place, still open: the listings stand (a name or address change)
        _reconcile_counter(uow, counter)


def close_counter(uow, counter_id, at=None):
    """A counter closes: it loses its listings (unless it changed after `at`). A close of a
    counter not known yet is not kept: an older `counter.upserted` handled after it opens it."""
    uow.distribution.lock_counters([counter_id])
    counter = uow.distribution.counter(counter_id, required=False)
    at = _no_later_than_now(at)
    if counter is None or counter.stale(at):
        return
    counter.changed_at = at  # closed already: the later close's time still counts
    if not counter.open:
        return
    uow.distribution.lock_counter_places([counter.department])
    counter.open = False
    _reconcile_counter(uow, counter)


def _no_later_than_now(at):
    """A change's time, never later than now: an event stamped in the future (a publisher's wrong
    clock) would otherwise make every real change after it look older, and be skipped."""
    return None if at is None else min(at, to_db(utcnow()))


def _reconcile_counter(uow, counter):
    repo = uow.distribution
    uow.flush()
    at_counter = repo.listings_at(counter.id)  # one query, not one per service
    for service in repo.services_concerned_by(counter):
        existing = at_counter.get(service.service_id)
        listings = {counter.id: existing} if existing else {}
        repo.add_all(service.reconcile([counter], listings))


def on_counter_upserted(uow, event):
    upsert_counter(uow, event.payload, to_db(event.occurred_at))


def on_counter_closed(uow, event):
    close_counter(uow, event.payload["counter_id"], to_db(event.occurred_at))


STANDING_HANDLERS = {event_type: on_service_standing for event_type in events.SERVICE_LIFECYCLE}
COUNTER_HANDLERS = {"counter.upserted": on_counter_upserted, "counter.closed": on_counter_closed}
CONSUMERS = (
    Consumes(topology.DISTRIBUTION_EVENTS, STANDING_HANDLERS, URGENT),
    Consumes(topology.DISTRIBUTION_INBOUND, COUNTER_HANDLERS, BULK),
)


def import_counters(uow, rows, batch=200, progress=None):
    """Upsert many counters (dicts shaped like counter.upserted), committing in batches."""
    done = 0
    for start in range(0, len(rows), batch):
        with uow:  # the batch's counters, then their places, old and new, locked at once, in order
            ids = [row["counter_id"] for row in rows[start : start + batch]]
            uow.distribution.lock_counters(ids)
            places = {row["department"] for row in rows[start : start + batch]} | uow.distribution.departments_of(ids)
            uow.distribution.lock_counter_places(places)
            for row in rows[start : start + batch]:
                upsert_counter(uow, row)
            uow.commit()
        done += len(rows[start : start + batch])
        if progress:
            progress(len(rows[start : start + batch]))
    return done


def search_counters(uow, schema=CounterPage, **query):
    """A page of counters, dumped with `schema` (the public one leaves out what names a person)."""
    with uow:
        rows, total = uow.distribution.search_counters(**query)
        return out(schema).dump(
            {"items": rows, "total": total, "limit": query.get("limit", 50), "offset": query.get("offset", 0)}
        )


def counter_catalogue(uow, counter_id, schema=CatalogueOut):
    """The services listed at a counter now, and the counter, dumped with `schema` (the public one
    leaves out what names a person)."""
    with uow:
        counter = uow.distribution.counter(counter_id)
        services = uow.distribution.catalogue(counter_id)
        answer = out(schema).dump(whole(services, counter=counter))
        answer["services"] = answer["items"]  # the alias, the same list: a national counter's is dumped once
        return answer


def relay_report(uow, counter_id, report):
    """A counter agent relays a visitor's report (service_id, category, text): it enters as
    usager.report_submitted with the counter's id, written to the outbox for spc.inbound, with a
    record of who relayed it, when and where (never the text), in one transaction."""
    with uow:
        uow.distribution.counter(counter_id)
        if uow.distribution.service(report["service_id"]) is None:
            raise ServiceNotKnown(
                f"no service {report['service_id']} known to distribution", {"service_id": report["service_id"]}
            )
        event = uow.relay_inbound("usager.report_submitted", dict(report, counter_id=counter_id))
        uow.distribution.record_relay(RelayedReport(str(event.event_id), counter_id, uow.actor or "unknown", event.occurred_at))
        uow.commit()
    return out(RelayedReportOut).dump(dict(report, event_id=str(event.event_id), counter_id=counter_id))


def service_listings(uow, service_id):
    with uow:
        service = uow.distribution.service(service_id)
        if service is None:
            raise ServiceNotKnown(f"no service {service_id} known to distribution", {"service_id": service_id})
        listings = uow.distribution.listings_of(service_id)
        views = [{"counter_id": cid, "status": listing.status} for cid, listing in sorted(listings.items())]
        return out(ListingsOut).dump(whole(views, service_id=service_id, status=service.status, listings=views))


def standings(uow, after, limit):
    """The read model behind GET /standings (read by `spc reconcile`): distribution's view of each
    service's standing, by service id, after `after`."""
    with uow:
        return uow.distribution.standings(after, limit)


def holdings(uow):
    """For the metrics: listings by status."""
    with uow:
        return {("listings", status): n for status, n, _ in uow.distribution.listings_by_status()}
