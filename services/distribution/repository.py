"""Loading and saving distribution's aggregates; the unit of work that groups them."""
import zlib

from sqlalchemy import and_, func, or_, select, text

from spc.shared.persistence import SqlRepository, UnitOfWork, standings_page

from . import orm
from .domain.model import PUBLISHED, Counter, DistributedService, Listing, department_of
from .exceptions import CounterNotFound


class DistributionRepository(SqlRepository):
    def __init__(self, session):
        super().__init__(session)
        self._locked = set()

    def add_all(self, objs):
        self.session.add_all(objs)

    def service(self, service_id, for_update=False, create=False):
        query = select(DistributedService).where(DistributedService.service_id == service_id)
        return self._one(query, for_update, (lambda: DistributedService(service_id)) if create else None)

    def counter(self, counter_id, required=True):
        found = self.session.get(Counter, counter_id)
        if found is None and required:
            raise CounterNotFound(f"no counter {counter_id}", {"counter_id": counter_id})
        return found

    def counters_in(self, departments, communes):
        """Open counters inside a territory: one indexed query."""
        if not departments and not communes:
            return []
        return self.session.scalars(select(Counter).where(and_(Counter.open.is_(True), or_(
            Counter.department.in_(list(departments)),
            Counter.commune_insee.in_(list(communes)))))).all()

    def listings_of(self, service_id):
        rows = self.session.scalars(select(Listing).where(Listing.service_id == service_id)).all()
        return {row.counter_id: row for row in rows}

    def lock_places(self, departments, communes=()):
        """Serialise, per department, the transactions that change listings there: a counter
        opening and a service changing standing in the same department never run side by side,
        so neither can miss the other's uncommitted change (a listing published for a service
        suspended meanwhile, or one never published for a service approved meanwhile).
        PostgreSQL: transaction-scoped advisory locks, taken in sorted order. SQLite: its
        transactions are already serial."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        places = set(departments) | {department_of(c) for c in communes}
        for place in sorted(places - self._locked):
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                 {"k": zlib.crc32(f"spc.distribution.department:{place}".encode())})
            self._locked.add(place)

    def services_concerned_by(self, counter):
        """Services that cover the counter's place or are listed there (to reconcile them); the
        caller holds the lock of the counter's department (lock_places)."""
        listed = set(self.session.scalars(select(Listing.service_id)
                                          .where(Listing.counter_id == counter.id)))
        candidates = self.session.scalars(
            select(DistributedService).where(or_(
                DistributedService.status == "active", DistributedService.service_id.in_(listed)))
            .order_by(DistributedService.service_id)).all()
        return self._seen_all([s for s in candidates if s.covers(counter) or s.service_id in listed])

    def listings_at(self, counter_id):
        rows = self.session.scalars(select(Listing).where(Listing.counter_id == counter_id)).all()
        return {row.service_id: row for row in rows}

    def listing(self, service_id, counter_id):
        return self.session.get(Listing, (service_id, counter_id))

    def search_counters(self, department=None, commune=None, q=None, include_closed=False,
                        limit=50, offset=0):
        query = select(Counter)
        if not include_closed:
            query = query.where(Counter.open.is_(True))
        if department:
            query = query.where(Counter.department == department)
        if commune:
            query = query.where(Counter.commune_insee == commune)
        if q:
            query = query.where(Counter.name.ilike(f"%{q}%"))
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(Counter.department, Counter.name, Counter.id)
                                    .limit(limit).offset(offset)).all()
        return rows, total

    def catalogue(self, counter_id):
        """The services listed at a counter now: one query."""
        return self.session.execute(
            select(DistributedService.service_id, DistributedService.name)
            .join(Listing, Listing.service_id == DistributedService.service_id)
            .where(Listing.counter_id == counter_id, Listing.status == PUBLISHED)
            .order_by(DistributedService.name)).all()


    def listings_by_status(self):
        return self._count_by_status(orm.listings)

    def standings(self, after, limit):
        """Each service's standing with its listings counted by status."""
        return [dict(row, listings=counts) for row, counts in
                standings_page(self.session, orm.services, orm.listings, after, limit)]


class DistributionUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.distribution = DistributionRepository(session)

