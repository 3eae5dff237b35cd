"""Loading and saving the registry's aggregates; the unit of work that groups them."""

import zlib

from sqlalchemy import and_, delete, exists, func, insert, or_, select, text, update

from spc.shared.core.events import PRINCIPLES
from spc.shared.core.geography import geography
from spc.shared.core.clock import utcnow
from spc.shared.sql.bulk import insert_new
from spc.shared.sql.persistence import SqlRepository, UnitOfWork, first
from spc.shared.sql.staff import attach_staff_tables

from . import orm
from .domain.dossiers import DossierLink, SyncCursor
from .domain.model import ACTIVE, SUSPENDED, Amendment, CitizenService, PactVersion
from .exceptions import AmendmentNotFound, ServiceNotFound


def principles_mask(pact):
    """The principles a pact commits to, as bits (PRINCIPLES' order): the list's `principle` filter."""
    return sum(1 << i for i, p in enumerate(PRINCIPLES) if p in pact.commitments)


def tags_of(pact):
    """The places the list filters on (see orm.service_tags), from a pact."""
    territories = pact.territories
    rows = {("department", d) for d in territories.departments_covered()}
    rows |= {("touches", d) for d in territories.departments_touched()}
    rows |= {("commune", c) for c in territories.communes}
    if territories.national:
        rows.add(("national", "*"))
    return sorted(rows)


class ServiceRepository(SqlRepository):
    def followed_terms(self, service_id=None):
        return _followed_terms(self.session, service_id)

    def get(self, service_id, for_update=False):
        service = self._one(select(CitizenService).where(CitizenService.id == service_id), for_update)
        if service is None:
            raise ServiceNotFound(f"no service {service_id}", {"service_id": service_id})
        return service

    def add(self, service):
        service.principles = principles_mask(service.pact)
        super().add(service)
        self.session.flush()  # the row first: its places refer to it
        self.index(service)

    def index(self, service):
        """Rewrite the service's filter rows and principles from its current pact."""
        service.principles = principles_mask(service.pact)
        t = orm.service_tags
        self.session.execute(delete(t).where(t.c.service_id == service.id))
        self.session.execute(insert(t), [{"service_id": service.id, "kind": k, "code": c} for k, c in tags_of(service.pact)])

    def same_organisation(self, service):
        """A service the same organisation (SIREN or RNA) registered under the same name."""
        ids = [(CitizenService.siren, service.siren), (CitizenService.rna, service.rna)]
        clauses = [column == value for column, value in ids if value]
        if not clauses:
            return None
        return self.session.scalars(
            select(CitizenService).where(CitizenService.name_key == service.name_key, or_(*clauses)).limit(1)
        ).first()

    def lock_organisation(self, service):
        """PostgreSQL: serialise the registrations of one organisation (so two concurrent copies
        cannot both pass `same_organisation`). SQLite: its transactions are already serial."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for value in sorted(v for v in (service.siren, service.rna) if v):
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"spc.registry.organisation:{value}".encode())}
            )

    def list(self, status=None, department=None, commune=None, principle=None, limit=50, offset=0):
        """One page, filtered and ordered in SQL (each filter an indexed EXISTS on service_tags);
        `status`: one status or several."""
        query = select(CitizenService)
        if status:
            query = query.where(CitizenService.status.in_([status] if isinstance(status, str) else status))
        if department:
            query = query.where(_tagged(or_(_tag("touches", department), _tag("national", "*"))))
        if commune:
            places = [_tag("commune", commune), _tag("national", "*")]
            home = geography().department_of(commune)
            if home:
                places.append(_tag("department", home))
            query = query.where(_tagged(or_(*places)))
        if principle:
            query = query.where(CitizenService.principles.op("&")(1 << PRINCIPLES.index(principle)) != 0)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(CitizenService.name, CitizenService.id).limit(limit).offset(offset)).all()
        return rows, total

    def due_to_expire(self, today, limit=100):
        return self.session.scalars(
            select(CitizenService.id)
            .where(CitizenService.term_ends_on < today, CitizenService.status.in_((ACTIVE, SUSPENDED)))
            .order_by(CitizenService.id)
            .limit(limit)
        ).all()

    def identity_unsettled(self, limit=100, before=None, rna_only=False):
        """Services with a SIREN (and, `rna_only`, those known only by their RNA number) whose
        identity the registries could not tell yet (`unverified`), least recently asked first;
        `before`: only those last asked before then (or never)."""
        identified = CitizenService.siren.is_not(None)
        if rna_only:
            identified = identified | CitizenService.rna.is_not(None)
        query = select(CitizenService.id).where(
            CitizenService.identity_status == "unverified", identified, CitizenService.legal_form != "informal_collective"
        )
        if before is not None:
            query = query.where((CitizenService.identity_checked_at.is_(None)) | (CitizenService.identity_checked_at < before))
        return self.session.scalars(
            query.order_by(CitizenService.identity_checked_at.nulls_first(), CitizenService.id).limit(limit)
        ).all()

    # -- pact versions and amendments --------------------------------------------------------------
    def keep_version(self, service, amendment_id, actor, at):
        self.session.add(PactVersion.of(service, amendment_id, actor, at))

    def pact_version(self, service_id, version):
        return self.session.get(PactVersion, (service_id, version))

    def pact_versions(self, service_id):
        return self.session.scalars(
            select(PactVersion).where(PactVersion.service_id == service_id).order_by(PactVersion.version)
        ).all()

    def add_amendment(self, amendment):
        self.session.add(amendment)

    def amendment(self, service_id, amendment_id, for_update=False):
        query = select(Amendment).where(Amendment.id == amendment_id, Amendment.service_id == service_id)
        found = self._one(query, for_update)
        if found is None:
            raise AmendmentNotFound(
                f"service {service_id} has no amendment {amendment_id}", {"service_id": service_id, "amendment_id": amendment_id}
            )
        return found

    def amendments(self, service_id):
        return self.session.scalars(
            select(Amendment).where(Amendment.service_id == service_id).order_by(Amendment.proposed_at, Amendment.id)
        ).all()

    # -- read models -----------------------------------------------------------------------------
    def standings(self, after, limit):
        t = orm.services
        rows = self.session.execute(
            select(t.c.id, t.c.status, t.c.version, t.c.audit_version, t.c.open_violations)
            .where(t.c.id > after)
            .order_by(t.c.id)
            .limit(limit)
        )
        return [
            {
                "service_id": r.id,
                "status": r.status,
                "version": r.version,
                "audit_version": r.audit_version,
                "open_violations": r.open_violations,
            }
            for r in rows
        ]

    # -- Démarches Simplifiées ---------------------------------------------------------------------
    def dossier(self, number, for_update=False):
        return first(self.session, select(DossierLink).where(DossierLink.number == number), for_update)

    def add_dossier(self, link):
        self.session.add(link)

    def linked_dossiers(self, limit=50):
        """(dossier, its service) for dossiers whose service's status the applicant was not told
        of, or not yet compared (the write-back), locked."""
        rows = self.session.execute(
            select(DossierLink, CitizenService)
            .join(CitizenService, CitizenService.id == DossierLink.service_id)
            .where(
                DossierLink.ds_id.is_not(None),
                (DossierLink.notified_status.is_(None)) | (DossierLink.notified_status != CitizenService.status),
            )
            .order_by(DossierLink.number)
            .limit(limit)
            .with_for_update(of=DossierLink)
        ).all()
        return [(link, service) for link, service in rows]

    def parked_dossiers(self, limit=100):
        return self.session.scalars(
            select(DossierLink).where(DossierLink.problem.is_not(None)).order_by(DossierLink.number).limit(limit)
        ).all()

    def cursor(self, demarche):
        """The démarche's sync cursor (a new one, added, the first time)."""
        found = first(self.session, select(SyncCursor).where(SyncCursor.demarche == demarche), True)
        if found is None:
            found = SyncCursor(demarche)
            self.session.add(found)
        return found

    def every(self):
        """Every service, in no order (the open-data exports read them all)."""
        return self.session.scalars(select(CitizenService)).all()

    def by_status(self):
        return self._count_by_status(orm.services)

    def count(self):
        return self.session.scalar(select(func.count()).select_from(orm.services))


def _tag(kind, code):
    t = orm.service_tags
    return and_(t.c.kind == kind, t.c.code == code)


def _tagged(condition):
    t = orm.service_tags
    return exists().where(t.c.service_id == CitizenService.id, condition)


def _followed_terms(session, service_id=None):
    """(id, status, the pact's term) of the active and suspended services (a service's only)."""
    s = orm.services
    query = select(s.c.id, s.c.status, s.c.pact_document).where(s.c.status.in_((ACTIVE, SUSPENDED)))
    if service_id is not None:
        query = query.where(s.c.id == service_id)
    return [(row.id, row.status, (row.pact_document or {}).get("term")) for row in session.execute(query)]


class MailOutbox(SqlRepository):
    """The e-mails the registry sends (reminders to a service's contact), written in the transaction
    that decided them, claimed and marked by the mail relay (mailer.py)."""

    def queue(self, reminder_id, service_id, mail):
        """An e-mail for the mail relay (mailer.py), once per reminder."""
        insert_new(
            self.session,
            orm.mail_outbox,
            [
                {
                    "reminder_id": reminder_id,
                    "service_id": service_id,
                    "to_address": mail.to,
                    "subject": mail.subject,
                    "body": mail.body,
                    "created_at": utcnow(),
                    "attempts": 0,
                }
            ],
            "reminder_id",
        )

    def claim(self, now, batch, max_attempts, max_age, claim_for):
        """The oldest `batch` mails still to send, each claimed until `now + claim_for` (a second
        relay skips them meanwhile) and its attempt counted: one `UPDATE … RETURNING`."""
        m = orm.mail_outbox
        claimable = and_(
            m.c.sent_at.is_(None),
            m.c.attempts < max_attempts,
            m.c.created_at > now - max_age,
            or_(m.c.claimed_until.is_(None), m.c.claimed_until < now),
        )
        oldest = select(m.c.id).where(claimable).order_by(m.c.id).limit(batch)
        return self.session.execute(
            update(m)
            .where(and_(m.c.id.in_(oldest.scalar_subquery()), claimable))
            .values(claimed_until=now + claim_for, attempts=m.c.attempts + 1)
            .returning(m.c.id, m.c.reminder_id, m.c.to_address, m.c.subject, m.c.body)
        ).all()

    def mark(self, mail_id, **values):
        """A mail tried: its claim released, with what happened (`sent_at`, `last_error`, `attempts`)."""
        m = orm.mail_outbox
        self.session.execute(update(m).where(m.c.id == mail_id).values(claimed_until=None, **values))

    def pending(self, service_id=None):
        """The mails not sent yet, oldest first."""
        m = orm.mail_outbox
        query = select(m).where(m.c.sent_at.is_(None)).order_by(m.c.id)
        if service_id:
            query = query.where(m.c.service_id == service_id)
        return [dict(r._mapping) for r in self.session.execute(query)]


class RegistryUnitOfWork(UnitOfWork):
    orm = orm

    def _repositories(self, session):
        attach_staff_tables(self, session)  # shared/web/edge.py's
        self.services = ServiceRepository(session)
        self.mails = MailOutbox(session)
