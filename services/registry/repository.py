"""Loading and saving the registry's aggregates; the unit of work that groups them."""
from sqlalchemy import func, select

from spc.shared.persistence import SqlRepository, UnitOfWork

from . import orm
from .domain.model import CitizenService
from .exceptions import ServiceNotFound


class ServiceRepository(SqlRepository):

    def get(self, service_id, for_update=False):
        query = select(CitizenService).where(CitizenService.id == service_id)
        if for_update:
            query = query.with_for_update()
        service = self.session.scalars(query).first()
        if service is None:
            raise ServiceNotFound(f"no service {service_id}", {"service_id": service_id})
        return self._seen(service)

    def list(self, status=None, department=None, limit=50, offset=0):
        query = select(CitizenService)
        if status:
            query = query.where(CitizenService.status == status)
        rows = self.session.scalars(query.order_by(CitizenService.name, CitizenService.id)).all()
        if department:  # JSON containment differs per database: filter the (small) page here
            rows = [r for r in rows if department in r.departments]
        return rows[offset:offset + limit], len(rows)

    def standings(self, after, limit):
        t = orm.services
        rows = self.session.execute(
            select(t.c.id, t.c.status, t.c.version, t.c.audit_version, t.c.open_violations)
            .where(t.c.id > after).order_by(t.c.id).limit(limit))
        return [{"service_id": r.id, "status": r.status, "version": r.version,
                 "audit_version": r.audit_version, "open_violations": r.open_violations}
                for r in rows]

    def by_status(self):
        return self._count_by_status(orm.services)

    def count(self):
        return self.session.scalar(select(func.count()).select_from(orm.services))


class RegistryUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        self.services = ServiceRepository(session)

