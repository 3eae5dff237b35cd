"""Loading and saving funding's aggregates; the unit of work that groups them."""
from sqlalchemy import insert, select

from spc.shared.persistence import SqlRepository, UnitOfWork, first, standings_page

from . import orm
from .domain.model import FREEZING_STATUSES, FundingAccount, Programme, Tranche
from .exceptions import ProgrammeNotFound, TrancheNotFound


class FundingRepository(SqlRepository):

    def programme(self, programme_id, for_update=False):
        query = select(Programme).where(Programme.id == programme_id)
        found = first(self.session, query, for_update)
        if found is None:
            raise ProgrammeNotFound(f"no programme {programme_id}", {"programme_id": programme_id})
        return found

    def programmes(self):
        return self.session.scalars(select(Programme).order_by(Programme.name)).all()

    def account(self, service_id, for_update=False, create=False):
        """The service's funding account (locked when asked); `create` makes an unknown one."""
        query = select(FundingAccount).where(FundingAccount.service_id == service_id)
        return self._one(query, for_update, (lambda: FundingAccount(service_id)) if create else None)

    def service_of_tranche(self, tranche_id):
        service_id = self.session.scalar(select(Tranche.service_id).where(Tranche.id == tranche_id))
        if service_id is None:
            raise TrancheNotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})
        return service_id

    def record_payment_order(self, tranche, event_id, at):
        self.session.execute(insert(orm.payment_orders).values(
            tranche_id=tranche.id, event_id=event_id, amount_cents=tranche.amount_cents, released_at=at))


    def tranches_by_status(self):
        return self._count_by_status(orm.tranches, amount="amount_cents")

    def standings(self, after, limit):
        """Each account's standing with its tranches counted by status."""
        return [dict(row, frozen=row["status"] in FREEZING_STATUSES, tranches=counts) for row, counts in
                standings_page(self.session, orm.accounts, orm.tranches, after, limit)]


class FundingUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.funding = FundingRepository(session)

