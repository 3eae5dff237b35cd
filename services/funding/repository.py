"""Loading and saving funding's aggregates; the unit of work that groups them."""

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from spc.shared.sql.persistence import SqlRepository, UnitOfWork, first, standings_page
from spc.shared.sql.staff import attach_staff_tables

from . import orm
from .domain.approvals import PENDING, ApprovalRequest
from .domain.model import FREEZING_STATUSES, FundingAccount, Grant, Programme, Tranche
from .exceptions import ApprovalNotFound, GrantNotFound, ProgrammeNotFound, TrancheNotFound


class FundingRepository(SqlRepository):
    def programme(self, programme_id, for_update=False):
        query = select(Programme).where(Programme.id == programme_id)
        found = first(self.session, query, for_update)
        if found is None:
            raise ProgrammeNotFound(f"no programme {programme_id}", {"programme_id": programme_id})
        return self._seen(found)  # a budget raise records its event

    def programmes(self):
        return self.session.scalars(select(Programme).order_by(Programme.name)).all()

    def grants(self):
        """Every grant, by id (the open-data export of grants)."""
        return self.session.scalars(select(Grant).order_by(Grant.id)).all()

    def programmes_of_service(self, service_id, for_update=False):
        """{id: programme} of the programmes that granted the service money, locked in id order."""
        query = (
            select(Programme)
            .where(Programme.id.in_(select(orm.grants.c.programme_id).where(orm.grants.c.service_id == service_id)))
            .order_by(Programme.id)
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return {p.id: p for p in self.session.scalars(query)}

    def tranche_cents_by_programme(self, programme_ids):
        """{programme id: {tranche status: cents}}, one query."""
        t, g = orm.tranches, orm.grants
        rows = self.session.execute(
            select(g.c.programme_id, t.c.status, func.sum(t.c.amount_cents))
            .join(g, t.c.grant_id == g.c.id)
            .where(g.c.programme_id.in_(programme_ids))
            .group_by(g.c.programme_id, t.c.status)
        ).all()
        out = {}
        for programme_id, status, cents in rows:
            out.setdefault(programme_id, {})[status] = int(cents)
        return out

    def account(self, service_id, for_update=False, create=False):
        """The service's funding account (locked when asked); `create` makes an unknown one. Locked,
        its grants come with their tranches in one statement after it (the rules read them all: two
        statements, not three). Not joined to the locked read: PostgreSQL would give the joined rows
        as they were before the lock was waited for (a tranche another transaction just released)."""
        query = select(FundingAccount).where(FundingAccount.service_id == service_id)
        if for_update:
            query = query.options(selectinload(FundingAccount.grants).joinedload(Grant.tranches))
        return self._one(query, for_update, (lambda: FundingAccount(service_id)) if create else None)

    def service_of_tranche(self, tranche_id):
        service_id = self.session.scalar(select(Tranche.service_id).where(Tranche.id == tranche_id))
        if service_id is None:
            raise TrancheNotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})
        return service_id

    def grant_parties(self, grant_id):
        """(service id, programme id) of a grant."""
        row = self.session.execute(select(Grant.service_id, Grant.programme_id).where(Grant.id == grant_id)).first()
        if row is None:
            raise GrantNotFound(f"no grant {grant_id}", {"grant_id": grant_id})
        return tuple(row)

    def programme_of_tranche(self, tranche_id):
        found = self.session.scalar(
            select(Grant.programme_id).join(Tranche, Tranche.grant_id == Grant.id).where(Tranche.id == tranche_id)
        )
        if found is None:
            raise TrancheNotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})
        return found

    # -- requests for a second person's approval (domain/approvals.py) ----------------------------
    def approval(self, approval_id, for_update=False):
        query = select(ApprovalRequest).where(ApprovalRequest.id == approval_id)
        found = first(self.session, query, for_update)
        if found is None:
            raise ApprovalNotFound(f"no request for approval {approval_id}", {"approval_id": approval_id})
        return self._seen(found)

    def approvals(self, status=None, limit=500):
        query = select(ApprovalRequest).order_by(ApprovalRequest.requested_at.desc(), ApprovalRequest.id)
        if status:
            query = query.where(ApprovalRequest.status == status)
        return self.session.scalars(query.limit(limit)).all()

    def pending_approval_of(self, target_id):
        return self.session.scalar(
            select(ApprovalRequest.id).where(ApprovalRequest.target_id == target_id, ApprovalRequest.status == PENDING)
        )

    def pending_approvals(self, service_id=None, expired_at=None):
        """Pending requests (locked): a service's, or those past their time at `expired_at`."""
        query = select(ApprovalRequest).where(ApprovalRequest.status == PENDING).order_by(ApprovalRequest.id)
        if service_id is not None:
            query = query.where(ApprovalRequest.service_id == service_id)
        if expired_at is not None:
            query = query.where(ApprovalRequest.expires_at <= expired_at)
        return self._seen_all(self.session.scalars(query.with_for_update().execution_options(populate_existing=True)).all())

    def scheduled_tranches(self, until, service_id=None):
        """Scheduled tranches due on or before `until` (a service's only, when named)."""
        query = select(Tranche).where(Tranche.status == "scheduled", Tranche.due_date <= until)
        if service_id is not None:
            query = query.where(Tranche.service_id == service_id)
        return self.session.scalars(query.order_by(Tranche.due_date, Tranche.id)).all()

    def record_payment_order(self, tranche, event_id, at):
        self.session.execute(
            insert(orm.payment_orders).values(
                tranche_id=tranche.id, event_id=event_id, amount_cents=tranche.amount_cents, released_at=at
            )
        )

    def tranches_by_status(self):
        return self._count_by_status(orm.tranches, amount="amount_cents")

    def standings(self, after, limit):
        """Each account's standing with its tranches counted by status."""
        return [
            dict(row, frozen=row["status"] in FREEZING_STATUSES, tranches=counts)
            for row, counts in standings_page(self.session, orm.accounts, orm.tranches, after, limit)
        ]


class FundingUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        attach_staff_tables(self, session)  # shared/web/edge.py's
        self.funding = FundingRepository(session)
