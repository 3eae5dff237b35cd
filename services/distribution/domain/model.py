"""France Services counters and where each active service is listed.

An active service is listed at every open counter inside its territory (one of its departments,
or one of its communes). Suspension or revocation withdraws every listing; reinstatement
republishes them. A counter that closes loses its listings; a new one gets those covering it.
"""
from spc.shared.domain import Aggregate

from . import events

PUBLISHED, WITHDRAWN = "published", "withdrawn"


def department_of(commune_insee):
    """The department of an INSEE commune code: 2 characters, 3 overseas (97x, 98x)."""
    return commune_insee[:3] if commune_insee.startswith(("97", "98")) else commune_insee[:2]


class Counter:
    def __init__(self, id, name, commune_insee, department, address="", lat=None, lon=None):
        self.id, self.name, self.address = id, name, address
        self.commune_insee, self.department = commune_insee, department
        self.lat, self.lon = lat, lon
        self.open = True

    def update(self, name, commune_insee, department, address="", lat=None, lon=None):
        """Returns whether the counter's place or opening changed (only then do listings)."""
        moved = (commune_insee, department, True) != (self.commune_insee, self.department, self.open)
        self.name, self.commune_insee, self.department = name, commune_insee, department
        self.address, self.lat, self.lon = address, lat, lon
        self.open = True
        return moved


class Listing:
    def __init__(self, service_id, counter_id, status=PUBLISHED):
        self.service_id, self.counter_id, self.status = service_id, counter_id, status


class DistributedService(Aggregate):
    """Distribution's view of a service: its standing (newest version wins) and territory."""

    def __init__(self, service_id, name="", status="unknown", version=0, departments=(), communes=()):
        self.service_id, self.name, self.status, self.version = service_id, name, status, version
        self.departments, self.communes = list(departments), list(communes)

    @property
    def listable(self):
        return self.status == "active"

    def covers(self, counter):
        return counter.open and (counter.department in self.departments
                                 or counter.commune_insee in self.communes)

    def apply_standing(self, name, status, version, territories):
        if version <= self.version:
            return False
        self.name, self.status, self.version = name, status, version
        self.departments = list(territories.get("departments", []))
        self.communes = list(territories.get("communes", []))
        return True

    def reconcile(self, counters, listings):
        """Make `listings` (this service's, by counter id) match its standing over `counters`
        (the candidates in its territory); records what was published and withdrawn. Returns the
        new Listing objects."""
        created, published, withdrawn = _reconcile(self, counters, listings)
        reason = f"service {self.status} (version {self.version})"
        if published:
            self._record(events.ListingsChanged("published", self.service_id, published, reason))
        if withdrawn:
            self._record(events.ListingsChanged("withdrawn", self.service_id, withdrawn, reason))
        return created


def _reconcile(service, counters, listings):
    wanted = {c.id for c in counters if service.listable and service.covers(c)}
    created, published, withdrawn = [], [], []
    for counter_id in sorted(wanted):
        listing = listings.get(counter_id)
        if listing is None:
            created.append(Listing(service.service_id, counter_id))
            published.append(counter_id)
        elif listing.status != PUBLISHED:
            listing.status = PUBLISHED
            published.append(counter_id)
    for counter_id, listing in sorted(listings.items()):
        if counter_id not in wanted and listing.status == PUBLISHED:
            listing.status = WITHDRAWN
            withdrawn.append(counter_id)
    return created, published, withdrawn
