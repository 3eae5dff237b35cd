"""The registry's use cases for applications from Démarches Simplifiées (domain/dossiers.py):
apply one dossier, keep a démarche in sync by polling, and re-read one dossier when DS pokes
(its webhook) or staff retry a parked one. Each dossier is applied in one transaction with the
events it causes, keyed on (dossier, state, last change) through the inbox: polled and poked at
once, it has one effect. What cannot be read as a pact is parked with its reason, never lost.

The registry runs this itself (its `sync_demarches` timer and `POST /ds/webhook/<secret>`),
configured by SPC_DS_* (docs/integrating.md, "Applications from Démarches Simplifiées")."""

import logging
import uuid
from dataclasses import dataclass

from marshmallow import ValidationError

from spc.shared.core.clock import utcnow
from spc.shared.core.envelope import first_error
from spc.shared.core.errors import DomainError
from spc.shared.core.explain import explain

from .domain import identity
from .domain.dossiers import APPROVE, CLOSE, SUBMIT, WITHDRAW, DossierLink, MalformedDossier, action
from .domain.model import SUBMITTED, CitizenService
from .domain.pact import AMENDABLE, Pact

from .ds_client import DsError
from .exceptions import AlreadyRegistered, InvalidPact

log = logging.getLogger(__name__)
SINCE_EVER = "2000-01-01T00:00:00+00:00"  # the démarche's whole history, listed by last change
LEASE_SECONDS = 600  # how long a process that stopped mid-round keeps others from polling
NAMESPACE = uuid.UUID("6f1d3c1e-9b7a-5d2e-8f40-3a5b7c9d1e2f")  # uuid5 of a dossier's delivery key


@dataclass(frozen=True)
class Delivery:
    """A dossier's state at one moment, as the inbox records it."""

    event_id: str
    event_type: str = "ds.dossier"


def delivery(key):
    return Delivery(str(uuid.uuid5(NAMESPACE, key)))


def pact_of(dossier, mapping):
    """The pact a dossier makes, checked as POST /services checks a body; MalformedDossier
    names the champ at fault."""
    from .schemas import RegisterServiceIn

    body = mapping.pact_body(dossier)
    try:
        loaded = RegisterServiceIn().load(body)
    except ValidationError as exc:
        field, message = first_error(explain(RegisterServiceIn, exc.messages))
        raise MalformedDossier(mapping.champ_of(dossier, field), f"{field}: {message}") from None
    pact = Pact.from_dict(loaded)
    problems = pact.problems(utcnow().date())
    if problems:
        field = sorted(problems)[0]
        raise MalformedDossier(mapping.champ_of(dossier, field), f"{field}: {problems[field]}")
    return pact


def apply_dossier(uow, dossier, mapping, registries=None, deleted=False):
    """Apply what the dossier now says. Returns `applied`, `unchanged`, `duplicate` (this state
    and change were applied before) or `parked` (the problem is kept on the dossier)."""
    key = f"ds:{dossier.demarche}:{dossier.number}:deleted" if deleted else dossier.key
    pact, problem, found = None, None, None
    try:
        act = WITHDRAW if deleted else action(dossier.state)
        if act in (SUBMIT, APPROVE):
            pact = pact_of(dossier, mapping)
    except MalformedDossier as exc:
        act, problem = None, str(exc)
    now = utcnow()
    if pact is not None and registries is not None:
        with uow:
            known = uow.services.dossier(dossier.number)
            new = known is None or known.service_id is None
        if new:  # asked outside the transaction, as at a registration by hand
            found = identity.check(registries, pact.legal_form, pact.siren, pact.rna)
    uow.actor = f"ds/{dossier.decided_by or dossier.applicant or dossier.number}"
    with uow:
        if not uow.inbox.claim_many([delivery(key)]):
            return "duplicate"
        link = uow.services.dossier(dossier.number, for_update=True)
        if link is None:
            link = DossierLink(dossier.number, dossier.demarche, seen_at=now)
            uow.services.add_dossier(link)
        outcome = "parked"
        if problem is None:
            try:
                outcome = _apply(uow, link, dossier, act, pact, found)
            except DomainError as exc:  # the registry's rules refuse it (a pact, open violations, a term...)
                problem = f"{exc.code}: {exc}" + (f" ({exc.details})" if exc.details else "")
        if problem is not None:
            uow.inbox.forget(delivery(key).event_id)  # fixed (mapping, data), the same change applies
            log.warning("DS dossier %s parked: %s", dossier.number, problem)
        link.problem = problem
        link.state, link.updated_at, link.seen_at = dossier.state, dossier.updated_at, now
        link.ds_id = dossier.id or link.ds_id
        uow.commit()
        return outcome


def _apply(uow, link, dossier, act, pact, found):
    service = uow.services.get(link.service_id, for_update=True) if link.service_id else None
    if act in (SUBMIT, APPROVE) and service is None:
        service = _register(uow, link, dossier, pact, found)
        if act == SUBMIT:
            return "applied"
    elif act == SUBMIT:
        return _update(uow, service, dossier, pact)
    if service is None:  # closed or deleted before SPC ever read it as a pact
        return "unchanged"
    if act == APPROVE:
        if service.status != SUBMITTED:  # approved by hand already, or closed since
            return "unchanged"
        _update(uow, service, dossier, pact)  # edited and accepted between two reads: the pact accepted
        reason = None
        if service.identity_doubted:
            reason = dossier.motivation or f"accepted in Démarches Simplifiées (dossier {dossier.number})"
        service.approve(utcnow().date(), reason)
        return "applied"
    if act in (CLOSE, WITHDRAW) and service.status == SUBMITTED:
        what = "deleted" if act == WITHDRAW else dossier.state
        service.revoke(
            f"{what} in Démarches Simplifiées (dossier {dossier.number})"
            + (f": {dossier.motivation}" if dossier.motivation else "")
        )
        return "applied"
    return "unchanged"


def _register(uow, link, dossier, pact, found):
    service = CitizenService.register(str(uuid.uuid4()), pact, uow.actor, utcnow().date())
    uow.services.lock_organisation(service)
    existing = uow.services.same_organisation(service)
    if existing is not None:
        raise AlreadyRegistered(
            f"{existing.siren or existing.rna} already registered {existing.name!r}", {"service_id": existing.id}
        )
    if found is not None:
        service.record_identity(found, utcnow())
    uow.services.add(service)
    uow.services.keep_version(service, None, uow.actor, utcnow())
    link.service_id = service.id
    return service


def _update(uow, service, dossier, pact):
    """A submitted application changed in DS: its pact follows, as an amendment proposed and
    approved at once (the history keeps each version). Once approved, changes go through
    amendments by staff: the dossier's later edits are not applied."""
    if service.status != SUBMITTED:
        return "unchanged"
    new, current = pact.to_dict(), service.pact.to_dict()
    fixed = sorted(part for part in set(new) | set(current) if part not in AMENDABLE and new.get(part) != current.get(part))
    if fixed:  # what a registration fixes: not amendable
        raise InvalidPact(
            "the dossier changes what a registration fixes: have it closed in Démarches Simplifiées and filed again",
            {"fields": {part: "not amendable" for part in fixed}},
        )
    changes = {part: new[part] for part in AMENDABLE if new.get(part) != current.get(part)}
    if not changes:
        return "unchanged"
    at = utcnow()
    amendment = service.propose_amendment(
        str(uuid.uuid4()), changes, f"dossier {dossier.number} changed in Démarches Simplifiées", uow.actor, at, at.date()
    )
    uow.services.add_amendment(amendment)
    service.approve_amendment(amendment, uow.actor, at, at.date())
    uow.services.index(service)
    uow.services.keep_version(service, amendment.id, uow.actor, at)
    return "applied"


def sync_demarche(uow, client, mapping, registries=None, pages=20, since=None):
    """Read what changed in the démarche since the cursor, a page (≤ 100 dossiers) at a time,
    applying each dossier and keeping the cursor after each page; then the dossiers deleted
    since. Returns {outcome: count}. The client's errors (DsUnavailable) stop the round where
    it is: the cursor kept says where the next round starts. `since` (SPC_DS_SINCE): where the
    first round starts (default: the démarche's whole history)."""
    from datetime import timedelta

    counts, lease = {}, timedelta(seconds=LEASE_SECONDS)
    with uow:
        cursor = uow.services.cursor(mapping.demarche)  # locked: one process takes the round
        if not cursor.take(utcnow(), lease):
            return counts  # another registry process is polling it
        # always with updatedSince: DS then lists by last change, where the cursor resumes
        cursor.updated_since = cursor.updated_since or since or SINCE_EVER
        after, since, deleted_since = cursor.end_cursor, cursor.updated_since, cursor.deleted_since
        uow.commit()
    try:
        return _sync(uow, client, mapping, registries, pages, after, since, deleted_since, lease, counts)
    finally:
        with uow:
            uow.services.cursor(mapping.demarche).polling_until = None
            uow.commit()


def _sync(uow, client, mapping, registries, pages, after, since, deleted_since, lease, counts):
    for _ in range(pages):
        page = client.dossiers(mapping.demarche, after=after, updated_since=since)
        for dossier in page.dossiers:
            outcome = apply_dossier(uow, dossier, mapping, registries)
            counts[outcome] = counts.get(outcome, 0) + 1
        if page.end_cursor:
            after = page.end_cursor
            with uow:
                cursor = uow.services.cursor(mapping.demarche)
                cursor.end_cursor, cursor.polling_until = after, utcnow() + lease  # still at it
                uow.commit()
        if not page.has_next:
            break
    deleted = client.deleted_dossiers(mapping.demarche, deleted_since=deleted_since)
    for gone in deleted:
        outcome = apply_dossier(uow, gone, mapping, registries, deleted=True)
        counts[outcome] = counts.get(outcome, 0) + 1
    if deleted:
        with uow:
            uow.services.cursor(mapping.demarche).deleted_since = max(g.updated_at for g in deleted)
            uow.commit()
    return counts


def reread_dossier(uow, client, mappings, number, registries=None):
    """DS poked (its webhook), or staff retry a parked dossier: read it again and apply it."""
    dossier = client.dossier(number)
    mapping = mappings.get(dossier.demarche)
    if mapping is None:
        raise MalformedDossier(
            "demarche", f"démarche {dossier.demarche} is not one SPC reads (no {dossier.demarche}.toml in SPC_DS_MAPPINGS)"
        )
    return apply_dossier(uow, dossier, mapping, registries)


def tell_applicants(uow, client, instructeur_id, limit=50, claim_seconds=300):
    """The write-back (SPC_DS_WRITE_BACK): each applicant whose service was suspended, or
    reinstated after a suspension, since they were last told reads it on their dossier, sent
    as the instructor `instructeur_id`. Each message is claimed first (several registry
    processes run this: one sends it, the others leave it for `claim_seconds`), marked told once
    DS took it: a process that stops in between leaves the claim to lapse and the message to be
    sent again, never lost. A message DS refuses is logged and tried again next round, without
    holding the others back; DS unavailable ends the round. Returns how many were sent."""
    from datetime import timedelta

    due, now = [], utcnow()
    with uow:
        for link, service in uow.services.linked_dossiers(limit):
            if link.notify_claimed_at is not None and link.notify_claimed_at > now - timedelta(seconds=claim_seconds):
                continue  # another process is sending it
            before = link.notified_status
            message = link.news_for_applicant(service)
            if message:  # told only once sent; a first look or an approval is marked now
                due.append((link.number, link.ds_id, message, link.notified_status))
                link.notified_status, link.notify_claimed_at = before, now
        uow.commit()
    sent = 0
    for number, ds_id, message, status in due:
        try:
            client.send_message(ds_id, instructeur_id, message)
        except DsError as exc:
            log.warning("DS refused the message on dossier %s (tried again next round): %s", number, exc)
            status = None
        with uow:
            link = uow.services.dossier(number, for_update=True)
            link.notify_claimed_at = None
            if status is not None:
                link.notified_status = status
                sent += 1
            uow.commit()
    return sent


def known(uow, number):
    with uow:
        return uow.services.dossier(number) is not None


def parked(uow, limit=100):
    with uow:
        return [
            {
                "number": d.number,
                "demarche": d.demarche,
                "state": d.state,
                "updated_at": d.updated_at,
                "service_id": d.service_id,
                "problem": d.problem,
            }
            for d in uow.services.parked_dossiers(limit)
        ]
