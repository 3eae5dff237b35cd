"""Loading and saving funding's aggregates; the unit of work that groups them."""
from sqlalchemy import func, insert, select

from spc.shared.errors import NotFound
from spc.shared.persistence import UnitOfWork, first, first_or_create

from . import orm
from .domain.model import FundingAccount, Programme, Tranche


class FundingRepository:
    def __init__(self, session):
        self.session = session

    def add(self, obj):
        self.session.add(obj)

    def programme(self, programme_id, for_update=False):
        query = select(Programme).where(Programme.id == programme_id)
        found = first(self.session, query, for_update)
        if found is None:
            raise NotFound(f"no programme {programme_id}", {"programme_id": programme_id})
        return found

    def programmes(self):
        return self.session.scalars(select(Programme).order_by(Programme.name)).all()

    def account(self, service_id, for_update=False, create=False):
        """The service's funding account (locked when asked); `create` makes an unknown one."""
        query = select(FundingAccount).where(FundingAccount.service_id == service_id)
        if create:
            return first_or_create(self.session, query, lambda: FundingAccount(service_id), for_update)
        return first(self.session, query, for_update)

    def service_of_tranche(self, tranche_id):
        service_id = self.session.scalar(select(Tranche.service_id).where(Tranche.id == tranche_id))
        if service_id is None:
            raise NotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})
        return service_id

    def record_payment_order(self, tranche, event_id, at):
        self.session.execute(insert(orm.payment_orders).values(
            tranche_id=tranche.id, event_id=event_id, amount_cents=tranche.amount_cents, released_at=at))


    def standings(self, after, limit):
        """Each account's standing with its tranches counted by status."""
        a, t = orm.accounts, orm.tranches
        accounts = self.session.execute(select(a.c.service_id, a.c.status, a.c.version)
                                        .where(a.c.service_id > after)
                                        .order_by(a.c.service_id).limit(limit)).all()
        counts = {}
        if accounts:
            for sid, status, n in self.session.execute(
                    select(t.c.service_id, t.c.status, func.count())
                    .where(t.c.service_id.in_([r.service_id for r in accounts]))
                    .group_by(t.c.service_id, t.c.status)):
                counts.setdefault(sid, {})[status] = n
        return [{"service_id": r.service_id, "status": r.status, "version": r.version,
                 "frozen": r.status == "suspended", "tranches": counts.get(r.service_id, {})}
                for r in accounts]


class FundingUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.funding = FundingRepository(session)

    def standings(self, after, limit):
        return self.funding.standings(after, limit)
