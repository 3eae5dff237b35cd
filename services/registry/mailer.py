"""The mail relay: e-mails written to `mail_outbox` with the reminder that caused them are
handed to the SMTP relay, a few at a time, each claimed for a minute first (two registry
replicas never send one at once). An address the relay refuses for good is given up
(`last_error`); any other failure leaves the mail for the next round, up to MAX_ATTEMPTS."""

import hashlib
import logging
import smtplib
from datetime import timedelta

from spc.shared.core.clock import utcnow

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
    with uow:
        rows = uow.mails.claim(now, batch, MAX_ATTEMPTS, MAX_AGE, timedelta(seconds=CLAIM_SECONDS))
        uow.commit()
    sent = failed = 0
    for row in sorted(rows, key=lambda r: r.id):
        try:
            smtp.send(row.to_address, row.subject, row.body, message_id(row.reminder_id))
        except smtplib.SMTPRecipientsRefused as exc:
            _done(uow, row.id, last_error=f"refused: {exc.recipients}", attempts=MAX_ATTEMPTS)  # given up
            failed += 1
            continue
        except (OSError, smtplib.SMTPException) as exc:  # the relay away or busy: next round
            _done(uow, row.id, last_error=f"{type(exc).__name__}: {exc}"[:500])
            log.warning("mail %s not sent (%s); tried again later", row.reminder_id, exc)
            return sent, failed + 1
        _done(uow, row.id, sent_at=utcnow(), last_error=None)
        sent += 1
    return sent, failed


def _done(uow, mail_id, **values):
    with uow:
        uow.mails.mark(mail_id, **values)
        uow.commit()


def pending(uow, service_id=None):
    """The mails not sent yet, oldest first (for operators and tests)."""
    with uow:
        return uow.mails.pending(service_id)
