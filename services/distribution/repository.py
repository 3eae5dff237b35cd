"""Loading and saving distribution's aggregates; the unit of work that groups them."""

import zlib

from sqlalchemy import and_, delete, func, insert, or_, select, text

from spc.shared.core.clock import to_db
from spc.shared.sql.persistence import SqlRepository, UnitOfWork, standings_page
from spc.shared.sql.staff import attach_staff_tables

from . import orm
from .domain.model import NATIONAL, PUBLISHED, Counter, DistributedService, Listing, department_area
from .exceptions import CounterNotFound


COUNTER_KEYS = 0x53504343  # "SPCC": the class of the counters' advisory locks (two-integer keys)


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

    def counters_in(self, service):
        """The open counters in the areas a service serves: one indexed query (on counters.department
        and counters.area), every open counter for a national service."""
        query = select(Counter).where(Counter.open.is_(True))
        if NATIONAL in service.areas:
            return self.session.scalars(query).all()
        if not service.areas:
            return []
        departments = [a.split(":", 1)[1] for a in service.areas if a.startswith("department:")]
        return self.session.scalars(query.where(or_(Counter.department.in_(departments), Counter.area.in_(service.areas)))).all()

    def index(self, service, indexed=None):
        """Rewrite the service's service_areas rows from its areas, unless they are still the
        `indexed` ones (a suspension keeps its areas: nothing to rewrite)."""
        if indexed is not None and list(service.areas) == list(indexed):
            return
        t = orm.service_areas
        self.session.execute(delete(t).where(t.c.service_id == service.service_id))
        if service.areas:
            self.session.execute(insert(t), [{"service_id": service.service_id, "area": a} for a in service.areas])

    def listings_of(self, service_id):
        rows = self.session.scalars(select(Listing).where(Listing.service_id == service_id)).all()
        return {row.counter_id: row for row in rows}

    def lock_places(self, departments, national=False):
        """A service's standing changes: serialise it with the counter changes in the départements its
        listings are (or were) in, so neither misses the other's uncommitted change (a listing
        published for a service suspended meanwhile, or one never published for a service approved
        meanwhile). A national service takes the `national` key alone, exclusively: every counter
        change holds it shared (lock_counter_places), so none runs beside it. A regional one takes
        each of its départements (région 94: 2A, 2B), exclusively: counter changes hold them shared.

        PostgreSQL: transaction-scoped advisory locks, always a counter's own key first (counter
        changes only: lock_counters), then `national`, then the départements in sorted order, so two
        transactions never wait on each other in a cycle (the one exception: a handler's second
        call, when the service's territory changed between its unlocked read and its row lock;
        PostgreSQL then aborts one of the two, and the consumer retries it). SQLite: its
        transactions are already serial."""
        if national:
            self._lock([("national", False)], [])
        else:
            self._lock([], departments)

    def lock_counters(self, counter_ids):
        """Changes of one counter one after the other: its own key, exclusively, taken before
        anything else of the change (before the counter is read: the change then reads it as the
        last one left it)."""
        self._lock([(f"counter:{c}", False) for c in sorted(set(counter_ids))], [])

    def lock_counter_places(self, departments):
        """A counter changes (opens, moves, closes): the `national` key and its départements, all
        shared. Counter changes run side by side, even in one département (each writes its own
        counter's listings only, and two of one counter wait on its key: lock_counters); a
        service's change in their places never runs beside one (it takes the places
        exclusively: lock_places). Under a flood of counter changes, a suspension so waits only
        for those under way, never for a queue of them (bench/README.md, figure `priority`)."""
        self._lock([("national", True)], departments, shared=True)

    def _lock(self, keys, departments, shared=False):
        if self.session.get_bind().dialect.name != "postgresql":
            return
        keys = keys + [(f"department:{d}", shared) for d in sorted(set(departments))]
        for name, shared in keys:
            if (name, shared) in self._locked or (name, False) in self._locked:
                continue
            function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
            key = zlib.crc32(f"spc.distribution.{name}".encode())
            if name.startswith("counter:"):
                # PostgreSQL's two-integer keys, apart from the one-integer keys of the places (the
                # two spaces never overlap): a counter's key never collides with a place's
                key -= 2**32 if key >= 2**31 else 0
                self.session.execute(text(f"SELECT {function}(:c, :k)"), {"c": COUNTER_KEYS, "k": key})
            else:
                self.session.execute(text(f"SELECT {function}(:k)"), {"k": key})
            self._locked.add((name, shared))

    def departments_of(self, counter_ids):
        """The départements the counters of `counter_ids` are in now (those known): one query."""
        return set(self.session.scalars(select(Counter.department).where(Counter.id.in_(list(counter_ids)))))

    def services_concerned_by(self, counter):
        """Services that serve the counter's place (national, its département, its area) while
        active, or are listed there (to reconcile them): one query on service_areas' index. The
        caller holds the counter's locks (lock_counter_places)."""
        t = orm.service_areas
        serving = select(t.c.service_id).where(t.c.area.in_([NATIONAL, department_area(counter.department), counter.area]))
        listed = select(Listing.service_id).where(Listing.counter_id == counter.id)
        return self._seen_all(
            self.session.scalars(
                select(DistributedService)
                .where(
                    or_(
                        and_(DistributedService.status == "active", DistributedService.service_id.in_(serving)),
                        DistributedService.service_id.in_(listed),
                    )
                )
                .order_by(DistributedService.service_id)
            ).all()
        )

    def listings_at(self, counter_id):
        rows = self.session.scalars(select(Listing).where(Listing.counter_id == counter_id)).all()
        return {row.service_id: row for row in rows}

    def listing(self, service_id, counter_id):
        return self.session.get(Listing, (service_id, counter_id))

    def search_counters(self, department=None, commune=None, q=None, include_closed=False, limit=50, offset=0):
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
        rows = self.session.scalars(
            query.order_by(Counter.department, Counter.name, Counter.id).limit(limit).offset(offset)
        ).all()
        return rows, total

    def catalogue(self, counter_id):
        """The services listed at a counter now, by name: one query, of the columns a catalogue
        shows only (rows, not loaded aggregates: a national counter lists thousands, and loading
        each whole service, its territory's JSON with it, was most of the answer's time)."""
        s, listings = orm.services, orm.listings
        return self.session.execute(
            select(s.c.service_id, s.c.name, s.c.mission, s.c.domains, s.c.contact_email, s.c.referral, s.c.commitments)
            .join(listings, listings.c.service_id == s.c.service_id)
            .where(listings.c.counter_id == counter_id, listings.c.status == PUBLISHED)
            .order_by(s.c.name, s.c.service_id)
        ).all()

    def record_relay(self, relay):
        self.session.execute(
            insert(orm.relayed_reports).values(
                event_id=relay.event_id,
                counter_id=relay.counter_id,
                relayed_by=relay.relayed_by,
                relayed_at=to_db(relay.relayed_at),
            )
        )

    def listings_by_status(self):
        return self._count_by_status(orm.listings)

    def standings(self, after, limit):
        """Each service's standing with its listings counted by status."""
        return [
            dict(row, listings=counts) for row, counts in standings_page(self.session, orm.services, orm.listings, after, limit)
        ]


class DistributionUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        attach_staff_tables(self, session)  # shared/web/edge.py's
        self.distribution = DistributionRepository(session)
