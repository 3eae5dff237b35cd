"""Loading and saving distribution's aggregates; the unit of work that groups them."""
from sqlalchemy import and_, func, or_, select

from spc.shared.errors import NotFound
from spc.shared.persistence import UnitOfWork, first

from . import orm
from .domain.model import PUBLISHED, Counter, DistributedService, Listing


class DistributionRepository:
    def __init__(self, session):
        self.session = session

    def add(self, obj):
        self.session.add(obj)

    def add_all(self, objs):
        self.session.add_all(objs)

    def service(self, service_id, for_update=False, create=False):
        query = select(DistributedService).where(DistributedService.service_id == service_id)
        found = first(self.session, query, for_update)
        if found is None and create:
            found = DistributedService(service_id)
            self.session.add(found)
        return found

    def counter(self, counter_id, required=True):
        found = self.session.get(Counter, counter_id)
        if found is None and required:
            raise NotFound(f"no counter {counter_id}", {"counter_id": counter_id})
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

    def services_concerned_by(self, counter):
        """Services that cover the counter's place or are listed there (to reconcile them)."""
        listed = set(self.session.scalars(select(Listing.service_id)
                                          .where(Listing.counter_id == counter.id)))
        candidates = self.session.scalars(select(DistributedService).where(or_(
            DistributedService.status == "active", DistributedService.service_id.in_(listed)))).all()
        return [s for s in candidates if s.covers(counter) or s.service_id in listed]

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


class DistributionUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.distribution = DistributionRepository(session)
