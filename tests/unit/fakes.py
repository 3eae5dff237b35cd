"""In-memory units of work for the handler unit tests: the same interface as each service's
SQLAlchemy unit of work (services/*/repository.py), no database, no broker. What a transaction
wrote to its outbox is in `uow.outbox.events` (wire events, as the relay would publish them).

They keep state across transactions and do not undo a transaction that raised: the rollback
guarantees are tested on the real databases (tests/integration, tests/faults)."""

import json
from dataclasses import dataclass
from datetime import datetime, time

from spc.services.audit.domain import journal
from spc.services.audit.domain.model import OPEN, Compliance
from spc.services.audit.domain.reports import NEW
from spc.services.audit.exceptions import FindingNotFound, ReportNotFound
from spc.services.distribution.domain.model import PUBLISHED, DistributedService
from spc.services.distribution.exceptions import CounterNotFound
from spc.services.funding.domain.approvals import PENDING, ApprovalRequest
from spc.services.funding.domain.model import FundingAccount
from spc.services.funding.exceptions import ApprovalNotFound, GrantNotFound, ProgrammeNotFound, TrancheNotFound
from spc.services.registry.domain.model import PactVersion
from spc.services.registry.exceptions import AmendmentNotFound, ServiceNotFound
from spc.services.registry.repository import tags_of
from spc.shared.core.geography import geography
from spc.shared.core import envelope, events
from spc.shared.sql.staff import subjects
from spc.shared.core.unit_of_work import AbstractUnitOfWork, Repository


def wire(event_type, payload, producer=None):
    """An event as a consumer receives it: serialised, then parsed and validated by the envelope
    (from the service that owns an outbound type, unless `producer` says otherwise)."""
    if producer is None:
        producer = events.producer_of(event_type) or "test-suite"
    return envelope.parse(envelope.to_bytes(envelope.Event(event_type, payload, producer)), event_type)


def standing(service_id, status, version, departments=("35",), communes=(), name="Crèche Les Lutins"):
    """The registry's lifecycle event that carries this standing."""
    kind = {"submitted": "submitted", "suspended": "suspended", "revoked": "revoked"}.get(
        status, "approved" if version <= 2 else "reinstated"
    )
    return wire(
        f"registry.service_{kind}",
        {
            "service_id": service_id,
            "name": name,
            "status": status,
            "version": version,
            "territories": {"departments": list(departments), "communes": list(communes)},
        },
    )


class FakeInbox:
    def __init__(self):
        self.ids = set()

    def seen_many(self, event_ids):
        return {str(i) for i in event_ids} & self.ids

    def record_many(self, events):
        self.ids |= {str(e.event_id) for e in events}

    def claim_many(self, events):
        new = {str(e.event_id) for e in events} - self.ids
        self.ids |= new
        return new

    def forget(self, event_id):
        self.ids.discard(str(event_id))


class FakeOutbox:
    def __init__(self):
        self.events, self.exchanges = [], []

    def add(self, event, exchange=None):
        self.add_many([event], exchange)

    def add_many(self, events, exchange=None):
        self.events.extend(events)
        self.exchanges.extend([exchange or "spc.events"] * len(events))

    def types(self):
        return [e.event_type for e in self.events]


@dataclass(frozen=True)
class StaffAction:
    """A row of `staff_actions`, as shared/sql/staff.StaffLog.history gives it."""

    action: str
    actor: str
    at: datetime
    correlation_id: str
    event_id: str


class FakeStaffLog:
    def __init__(self):
        self.actions = []  # (subject id, StaffAction)

    def add_many(self, events):
        self.actions += [
            (s, StaffAction(event.event_type, event.actor, event.occurred_at, event.correlation_id, str(event.event_id)))
            for event in events
            if event.actor
            for s in subjects(event.payload)
        ]

    def history(self, subject_ids):
        return {s: [a for subject, a in self.actions if subject == s] for s in subject_ids}


@dataclass
class KeptKey:
    fingerprint: str
    status: int | None = None
    answer: str | None = None


class FakeIdempotencyKeys:
    def __init__(self):
        self.keys = {}  # (actor, key): KeptKey

    def claim(self, actor, idem):
        assert (actor, idem.key) not in self.keys
        self.keys[(actor, idem.key)] = KeptKey(idem.fingerprint)

    def find(self, actor, key):
        return self.keys.get((actor, key))

    def keep_answer(self, actor, key, status, answer):
        kept = self.keys[(actor, key)]
        kept.status, kept.answer = status, json.dumps(answer, default=str)


class FakeUnitOfWork(AbstractUnitOfWork):
    producer = "test"

    def __init__(self):
        self.inbox, self.outbox = FakeInbox(), FakeOutbox()
        self.staff_log, self.idempotency_keys = FakeStaffLog(), FakeIdempotencyKeys()
        self.commits = 0

    def _begin(self):
        pass

    def _end(self):
        pass

    def _commit(self):
        self.commits += 1

    def rollback(self):
        pass

    def flush(self):
        pass


class FakeRepository(Repository):
    def _aggregate(self, rows, key, factory, create):
        """The aggregate at `key` (None if absent), made by `factory(key)` first if `create`."""
        if create and key not in rows:
            rows[key] = factory(key)
        return self._seen(rows.get(key))

    def standings(self, after, limit):
        rows = sorted(self._standings(), key=lambda r: r["service_id"])
        return [r for r in rows if r["service_id"] > after][:limit]


def _get(rows, key, not_found):
    """rows[key], or the service's own error (the one its SQL repository raises)."""
    if key not in rows:
        raise not_found(f"no such id: {key}", {"id": key})
    return rows[key]


def _counted(items):
    counts = {}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


# ---- registry --------------------------------------------------------------------------------
class FakeServices(FakeRepository):
    def __init__(self):
        super().__init__()
        self.rows, self.versions, self.amendments_by_id = {}, {}, {}

    def add(self, service):
        self.rows[service.id] = self._seen(service)

    def get(self, service_id, for_update=False):
        return self._seen(_get(self.rows, service_id, ServiceNotFound))

    def index(self, service):
        pass  # the fake filters on the pacts themselves

    def lock_organisation(self, service):
        pass

    def same_organisation(self, service):
        return next(
            (
                s
                for s in self.rows.values()
                if s.name_key == service.name_key
                and ((service.siren and s.siren == service.siren) or (service.rna and s.rna == service.rna))
            ),
            None,
        )

    def list(self, status=None, department=None, commune=None, principle=None, limit=50, offset=0):
        def tagged(s, *wanted):
            return bool(set(tags_of(s.pact)) & set(wanted))

        home = geography().department_of(commune) if commune else None
        statuses = [status] if isinstance(status, str) else status
        rows = sorted(
            (
                s
                for s in self.rows.values()
                if (not statuses or s.status in statuses)
                and (not department or tagged(s, ("touches", department), ("national", "*")))
                and (not commune or tagged(s, ("commune", commune), ("department", home), ("national", "*")))
                and (not principle or principle in s.pact.commitments)
            ),
            key=lambda s: (s.name, s.id),
        )
        return rows[offset : offset + limit], len(rows)

    def due_to_expire(self, today, limit=100):
        return sorted(
            s.id for s in self.rows.values() if s.term_ends_on and s.term_ends_on < today and s.status in ("active", "suspended")
        )[:limit]

    def dossier(self, number, for_update=False):
        return self.__dict__.setdefault("dossiers", {}).get(number)

    def add_dossier(self, link):
        self.__dict__.setdefault("dossiers", {})[link.number] = link

    def linked_dossiers(self, limit=50):
        links = sorted(self.__dict__.get("dossiers", {}).values(), key=lambda d: d.number)
        return [
            (d, self.rows[d.service_id])
            for d in links
            if d.ds_id and d.service_id and d.notified_status != self.rows[d.service_id].status
        ][:limit]

    def parked_dossiers(self, limit=100):
        return sorted((d for d in self.__dict__.get("dossiers", {}).values() if d.problem), key=lambda d: d.number)[:limit]

    def cursor(self, demarche):
        from spc.services.registry.domain.dossiers import SyncCursor

        return self.__dict__.setdefault("cursors", {}).setdefault(demarche, SyncCursor(demarche))

    def identity_unsettled(self, limit=100, before=None, rna_only=False):
        rows = [
            s
            for s in self.rows.values()
            if s.identity_status == "unverified"
            and (s.siren or rna_only and s.rna)
            and s.legal_form != "informal_collective"
            and (before is None or s.identity_checked_at is None or s.identity_checked_at < before)
        ]
        rows.sort(key=lambda s: (s.identity_checked_at is not None, s.identity_checked_at or 0, s.id))
        return [s.id for s in rows][:limit]

    def keep_version(self, service, amendment_id, actor, at):
        version = PactVersion.of(service, amendment_id, actor, at)
        self.versions[(service.id, version.version)] = version

    def pact_versions(self, service_id):
        return [v for (sid, _), v in sorted(self.versions.items()) if sid == service_id]

    def add_amendment(self, amendment):
        self.amendments_by_id[amendment.id] = amendment

    def amendment(self, service_id, amendment_id, for_update=False):
        found = self.amendments_by_id.get(amendment_id)
        if found is None or found.service_id != service_id:
            raise AmendmentNotFound(f"no amendment {amendment_id}", {"amendment_id": amendment_id})
        return found

    def amendments(self, service_id):
        return [a for a in self.amendments_by_id.values() if a.service_id == service_id]

    def _standings(self):
        return [
            {
                "service_id": s.id,
                "status": s.status,
                "version": s.version,
                "audit_version": s.audit_version,
                "open_violations": s.open_violations,
            }
            for s in self.rows.values()
        ]


class FakeRegistryUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.services = FakeServices()


# ---- funding ---------------------------------------------------------------------------------
class FakeFunding(FakeRepository):
    def __init__(self):
        super().__init__()
        self.programmes_by_id, self.accounts, self.payment_orders, self.requests = {}, {}, {}, {}

    def add(self, obj):
        rows = self.requests if isinstance(obj, ApprovalRequest) else self.programmes_by_id
        if isinstance(obj, ApprovalRequest) and obj.status == PENDING and self.pending_approval_of(obj.target_id):
            raise AssertionError(f"a second pending request for {obj.target_id} (the SQL index refuses it)")
        rows[obj.id] = self._seen(obj)  # its events are collected

    def grant_parties(self, grant_id):
        for account in self.accounts.values():
            for grant in account.grants:
                if grant.id == grant_id:
                    return grant.service_id, grant.programme_id
        raise GrantNotFound(f"no grant {grant_id}", {"grant_id": grant_id})

    def programme_of_tranche(self, tranche_id):
        for account in self.accounts.values():
            for grant in account.grants:
                if any(t.id == tranche_id for t in grant.tranches):
                    return grant.programme_id
        raise TrancheNotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})

    def approval(self, approval_id, for_update=False):
        return self._seen(_get(self.requests, approval_id, ApprovalNotFound))

    def approvals(self, status=None, limit=500):
        found = sorted(self.requests.values(), key=lambda r: (r.requested_at, r.id), reverse=True)
        return [r for r in found if status in (None, r.status)][:limit]

    def pending_approval_of(self, target_id):
        return next((r.id for r in self.requests.values() if r.target_id == target_id and r.status == PENDING), None)

    def pending_approvals(self, service_id=None, expired_at=None):
        return [
            self._seen(r)
            for r in sorted(self.requests.values(), key=lambda r: r.id)
            if r.status == PENDING and service_id in (None, r.service_id) and (expired_at is None or r.expires_at <= expired_at)
        ]

    def programme(self, programme_id, for_update=False):
        return self._seen(_get(self.programmes_by_id, programme_id, ProgrammeNotFound))

    def programmes(self):
        return sorted(self.programmes_by_id.values(), key=lambda p: p.name)

    def programmes_of_service(self, service_id, for_update=False):
        account = self.accounts.get(service_id)
        ids = sorted({g.programme_id for g in account.grants}) if account else []
        return {i: self.programmes_by_id[i] for i in ids}

    def tranche_cents_by_programme(self, programme_ids):
        out = {}
        for account in self.accounts.values():
            for grant in account.grants:
                if grant.programme_id in programme_ids:
                    for t in grant.tranches:
                        cents = out.setdefault(grant.programme_id, {})
                        cents[t.status] = cents.get(t.status, 0) + t.amount_cents
        return out

    def account(self, service_id, for_update=False, create=False):
        return self._aggregate(self.accounts, service_id, FundingAccount, create)

    def service_of_tranche(self, tranche_id):
        for account in self.accounts.values():
            if any(t.id == tranche_id for t in account.tranches):
                return account.service_id
        raise TrancheNotFound(f"no tranche {tranche_id}", {"tranche_id": tranche_id})

    def record_payment_order(self, tranche, event_id, at):
        if tranche.id in self.payment_orders:
            raise AssertionError(f"a second payment order for tranche {tranche.id}")
        self.payment_orders[tranche.id] = (event_id, tranche.amount_cents, at)

    def _standings(self):
        return [
            {
                "service_id": a.service_id,
                "status": a.status,
                "version": a.version,
                "frozen": a.frozen,
                "tranches": _counted(a.tranches),
            }
            for a in self.accounts.values()
        ]


class FakeFundingUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.funding = FakeFunding()


# ---- distribution ----------------------------------------------------------------------------
class FakeDistribution(FakeRepository):
    def __init__(self):
        super().__init__()
        self.services, self.counters, self.listings, self.relays = {}, {}, {}, []

    def add(self, counter):
        self.counters[counter.id] = counter

    def add_all(self, listings):
        for listing in listings:
            self.listings[(listing.service_id, listing.counter_id)] = listing

    def service(self, service_id, for_update=False, create=False):
        return self._aggregate(self.services, service_id, DistributedService, create)

    def counter(self, counter_id, required=True):
        if required:
            return _get(self.counters, counter_id, CounterNotFound)
        return self.counters.get(counter_id)

    def counters_in(self, service):
        return [c for c in self.counters.values() if service.covers(c)]

    def index(self, service, indexed=None):
        """Nothing to index: services_concerned_by asks each service."""

    def listings_of(self, service_id):
        return {cid: listing for (sid, cid), listing in self.listings.items() if sid == service_id}

    def listings_at(self, counter_id):
        return {sid: listing for (sid, cid), listing in self.listings.items() if cid == counter_id}

    def lock_places(self, departments, national=False):
        """Nothing to serialise: one transaction at a time here."""

    def lock_counters(self, counter_ids):
        """Nothing to serialise either."""

    def lock_counter_places(self, departments):
        """Nor here."""

    def departments_of(self, counter_ids):
        return {self.counters[c].department for c in counter_ids if c in self.counters}

    def services_concerned_by(self, counter):
        listed = set(self.listings_at(counter.id))
        return self._seen_all(
            [
                s
                for _, s in sorted(self.services.items())
                if (s.status == "active" and s.covers(counter)) or s.service_id in listed
            ]
        )

    def search_counters(self, department=None, commune=None, q=None, include_closed=False, limit=50, offset=0):
        rows = sorted(
            (
                c
                for c in self.counters.values()
                if (include_closed or c.open)
                and (not department or c.department == department)
                and (not commune or c.commune_insee == commune)
                and (not q or q.lower() in c.name.lower())
            ),
            key=lambda c: (c.department, c.name, c.id),
        )
        return rows[offset : offset + limit], len(rows)

    def catalogue(self, counter_id):
        listed = [self.services[sid] for sid, listing in self.listings_at(counter_id).items() if listing.status == PUBLISHED]
        return sorted(listed, key=lambda s: (s.name, s.service_id))

    def record_relay(self, relay):
        self.relays.append(relay)

    def _standings(self):
        return [
            {
                "service_id": s.service_id,
                "status": s.status,
                "version": s.version,
                "listings": _counted(self.listings_of(s.service_id).values()),
            }
            for s in self.services.values()
        ]


class FakeDistributionUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.distribution = FakeDistribution()


# ---- audit -----------------------------------------------------------------------------------
class FakeAudit(FakeRepository):
    def __init__(self):
        super().__init__()
        self.compliances, self.findings, self.parked, self.pacts = {}, {}, {}, {}

    def add(self, finding):
        self.findings[finding.id] = finding

    def compliance(self, service_id, for_update=False, create=False):
        return self._aggregate(self.compliances, service_id, Compliance, create)

    def finding(self, finding_id, for_update=False):
        return _get(self.findings, finding_id, FindingNotFound)

    def findings_of(self, service_id):
        return sorted((f for f in self.findings.values() if f.service_id == service_id), key=lambda f: (f.created_at, f.id))

    def known_services(self, service_ids):
        return {sid for sid in service_ids if sid in self.compliances and self.compliances[sid].known}

    def threshold_finding_since(self, service_id, category, since):
        return any(
            f.service_id == service_id and f.threshold_category == category and f.created_at >= since
            for f in self.findings.values()
        )

    def keep_pact_version(self, service_id, pact_version, commitments, registry_version, at):
        kept = self.pacts.get((service_id, pact_version))
        if kept is None:
            self.pacts[(service_id, pact_version)] = {
                "pact_version": pact_version,
                "commitments": commitments,
                "registry_version": registry_version,
                "seen_at": at,
            }
        elif not kept["commitments"] and commitments:
            kept["commitments"] = commitments

    def pact_versions(self, service_id):
        return [v for (sid, _), v in sorted(self.pacts.items()) if sid == service_id]

    def park(self, fact):
        self.parked.setdefault(fact.event_id, fact)

    def parked_for(self, service_id):
        return sorted((f for f in self.parked.values() if f.service_id == service_id), key=lambda f: (f.parked_at, f.event_id))

    def parked_since(self, before, limit=100):
        return sorted((f for f in self.parked.values() if f.parked_at <= before), key=lambda f: f.parked_at)[:limit]

    def unpark(self, fact):
        del self.parked[fact.event_id]

    def forget_if_unknown(self, service_id):
        compliance = self.compliances.get(service_id)
        if compliance and not compliance.known and not self.parked_for(service_id):
            del self.compliances[service_id]

    def parked_count(self):
        return len(self.parked)

    def _standings(self):
        return [
            {
                "service_id": c.service_id,
                "known": c.known,
                "status": c.registry_status,
                "version": c.registry_version,
                "open_violations": c.open_violations,
                "audit_version": c.audit_version,
            }
            for c in self.compliances.values()
            if c.known
        ]

    def overdue_minor_findings(self, now):
        return sorted(
            (
                f
                for f in self.findings.values()
                if f.status == OPEN
                and not f.is_violation
                and f.remediation_deadline is not None
                and f.remediation_deadline <= now
            ),
            key=lambda f: f.id,
        )


class FakeReports(FakeRepository):
    """Citizen reports in a list, in arrival order (`rows`)."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def add_reports(self, reports):
        self.rows.extend(reports)

    def get(self, report_id, for_update=False):
        return self._seen(_get({r.id: r for r in self.rows}, report_id, ReportNotFound))

    def many(self, report_ids, for_update=False):
        return [self.get(i) for i in report_ids]

    def search(self, f):
        since = f.since and datetime.combine(f.since, time())
        until = f.until and datetime.combine(f.until, time.max)
        rows = [
            r
            for r in self.rows
            if all(getattr(f, c) in (None, getattr(r, c)) for c in ("service_id", "category", "status", "counter_id"))
            and (since is None or r.created_at >= since)
            and (until is None or r.created_at <= until)
        ]
        rows.sort(key=lambda r: r.id)
        rows.sort(key=lambda r: r.created_at, reverse=True)
        return self._seen_all(rows[f.offset : f.offset + f.limit]), len(rows)

    def due_groups(self, since, threshold, categories):
        counts = {}
        for r in self.rows:
            if r.status == NEW and r.created_at >= since and r.category in categories:
                counts[(r.service_id, r.category)] = counts.get((r.service_id, r.category), 0) + 1
        return sorted(key for key, n in counts.items() if n >= threshold)

    def untriaged(self, service_id, category, since):
        return self._seen_all(
            sorted(
                (
                    r
                    for r in self.rows
                    if r.service_id == service_id and r.category == category and r.status == NEW and r.created_at >= since
                ),
                key=lambda r: (r.created_at, r.id),
            )
        )

    def ids_by_finding(self, finding_ids):
        return {
            f: [r.id for r in sorted(self.rows, key=lambda r: (r.created_at, r.id)) if r.finding_id == f] for f in finding_ids
        }

    def counts(self, service_id):
        out = {}
        for r in self.rows:
            if r.service_id == service_id:
                out[(r.category, r.status)] = out.get((r.category, r.status), 0) + 1
        return out

    def texts_to_purge(self, cutoff, limit=500):
        return self._seen_all(
            sorted((r for r in self.rows if r.created_at < cutoff and r.purged_at is None), key=lambda r: r.created_at)[:limit]
        )

    def by_status(self):
        return [(status, n, None) for status, n in _counted(self.rows).items()]


class FakeJournal:
    """The journal lane's inbox and the hash chain, in memory (the chain rules are the domain's)."""

    def __init__(self):
        self.pending, self.chained, self.about = [], [], {}  # about: {event id: (service id, recorded at)}

    def seen_many(self, event_ids):
        ids = {str(i) for i in event_ids}
        return {e for e, _, _ in self.pending if e in ids} | {e.event_id for e in self.chained if e.event_id in ids}

    def record_many(self, events):
        for e in events:
            body, service_id = journal.journaled(envelope.to_dict(e))
            self.pending.append((str(e.event_id), e.event_type, body))
            self.about[str(e.event_id)] = (service_id, datetime.now())

    def claim_many(self, events):
        seen = self.seen_many([e.event_id for e in events])
        fresh = [e for e in events if str(e.event_id) not in seen]
        self.record_many(fresh)
        return {str(e.event_id) for e in fresh}

    def record_new(self, events):
        seen = self.seen_many([e.event_id for e in events])
        self.record_many([e for e in events if str(e.event_id) not in seen])

    def has_pending(self):
        return bool(self.pending)

    def chain(self, limit=500):
        taken, self.pending = self.pending[:limit], self.pending[limit:]
        for event_id, event_type, body in taken:
            seq, head = (self.chained[-1].seq, self.chained[-1].hash) if self.chained else (0, journal.GENESIS)
            self.chained.append(journal.next_entry(seq, head, event_id, event_type, body))
        return len(taken)

    def length(self):
        return len(self.chained)

    def entries(self, after=0, upto=None):
        return iter([e for e in self.chained if e.seq > after and (upto is None or e.seq <= upto)])

    def concerning(self, service_id, after=0, limit=500, event_types=None):
        return [
            _Row(e.seq, e.event_id, e.event_type, self.about[e.event_id][1], e.body)
            for e in self.chained
            if self.about[e.event_id][0] == service_id and e.seq > after and (event_types is None or e.event_type in event_types)
        ][:limit]

    def count_concerning(self, service_id):
        return sum(1 for e in self.chained if self.about[e.event_id][0] == service_id)


@dataclass
class _Row:
    seq: int
    event_id: str
    event_type: str
    recorded_at: object
    body: str


class FakeAuditUnitOfWork(FakeUnitOfWork):
    def __init__(self):
        super().__init__()
        self.audit, self.reports, self.journal = FakeAudit(), FakeReports(), FakeJournal()
