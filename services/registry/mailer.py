"""The mail relay: e-mails written to `mail_outbox` with the reminder that caused them are
handed to the SMTP relay, a few at a time, each claimed for a minute first (two registry
replicas never send one at once). An address the relay refuses for good is given up
(`last_error`); any other failure leaves the mail for the next round, up to MAX_ATTEMPTS."""

import hashlib
import logging
import smtplib
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from spc.shared.core.clock import utcnow

from . import orm

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
CLAIM_SECONDS = 60
MAX_AGE = timedelta(days=3)  # a reminder older than this when the relay comes is no longer sent


def message_id(reminder_id):
    """The same for every try: a client that sees one twice shows it once."""
    return f"<{hashlib.sha256(reminder_id.encode()).hexdigest()[:40]}@service-public-citoyen>"


def send_pending(uow, smtp, batch=20, now=None):
    """One round; returns (sent, failed)."""
    now = now or utcnow()
    m = orm.mail_outbox
    with uow:
        claimable = and_(
            m.c.sent_at.is_(None),
            m.c.attempts < MAX_ATTEMPTS,
            m.c.created_at > now - MAX_AGE,
            or_(m.c.claimed_until.is_(None), m.c.claimed_until < now),
        )
        oldest = select(m.c.id).where(claimable).order_by(m.c.id).limit(batch)
        rows = uow.session.execute(
            update(m)
            .where(and_(m.c.id.in_(oldest.scalar_subquery()), claimable))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=m.c.attempts + 1)
            .returning(m.c.id, m.c.reminder_id, m.c.to_address, m.c.subject, m.c.body)
        ).all()
        uow.commit()
    sent = failed = 0
    for row in sorted(rows, key=lambda r: r.id):
        try:
            smtp.send(row.to_address, row.subject, row.body, message_id(row.reminder_id))
        except smtplib.SMTPRecipientsRefused as exc:
            _done(uow, row.id, error=f"refused: {exc.recipients}", give_up=True)
            failed += 1
            continue
        except (OSError, smtplib.SMTPException) as exc:  # the relay away or busy: next round
            _done(uow, row.id, error=f"{type(exc).__name__}: {exc}"[:500])
            log.warning("mail %s not sent (%s); tried again later", row.reminder_id, exc)
            return sent, failed + 1
        _done(uow, row.id, sent_at=utcnow())
        sent += 1
    return sent, failed


def _done(uow, mail_id, sent_at=None, error=None, give_up=False):
    m = orm.mail_outbox
    values = {"claimed_until": None, "last_error": error}
    if sent_at is not None:
        values["sent_at"] = sent_at
    if give_up:
        values["attempts"] = MAX_ATTEMPTS
    with uow:
        uow.session.execute(update(m).where(m.c.id == mail_id).values(**values))
        uow.commit()


def pending(uow, service_id=None):
    """The mails not sent yet, oldest first (for operators and tests)."""
    m = orm.mail_outbox
    with uow:
        query = select(m).where(m.c.sent_at.is_(None)).order_by(m.c.id)
        if service_id:
            query = query.where(m.c.service_id == service_id)
        return [dict(r._mapping) for r in uow.session.execute(query)]
