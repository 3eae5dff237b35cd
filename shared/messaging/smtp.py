"""Sending an e-mail through the operator's SMTP relay (SPC_SMTP_URL): `smtp://host:25` (plain,
for a relay on a private network), `smtp+starttls://user:password@host:587` (STARTTLS, the
certificate checked against the system's CAs), `smtps://user:password@host:465` (TLS from the
first byte)."""

import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

# Headers on one line (up to SMTP's 998 characters): Python's folding of a long non-ASCII subject
# into several encoded words loses a space where it cuts ("» :pièces"), seen here
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)
SCHEMES = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


class SmtpConfigError(ValueError):
    """SPC_SMTP_URL cannot be used (said in one line before anything starts)."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str
    sender: str
    user: str = ""
    password: str = ""
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url, sender, timeout=10.0):
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise SmtpConfigError(
                f"SPC_SMTP_URL must be smtp://, smtp+starttls:// or smtps://HOST[:PORT] (got {parts.scheme or url!r})"
            )
        if "@" not in sender:
            raise SmtpConfigError(f"SPC_SMTP_FROM must be an e-mail address (got {sender!r})")
        port, security = SCHEMES[parts.scheme]
        try:
            port = parts.port or port
        except ValueError:
            raise SmtpConfigError("SPC_SMTP_URL: the port must be a number") from None
        return cls(parts.hostname, port, security, sender, unquote(parts.username or ""), unquote(parts.password or ""), timeout)

    def send(self, to, subject, body, message_id):
        """Hand one message to the relay; raises smtplib's errors (SMTPRecipientsRefused: the
        address is refused for good, the others may pass on a retry)."""
        message = EmailMessage(policy=UNFOLDED)
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"], message["Date"] = message_id, formatdate(localtime=False)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-reply to it
        message.set_content(body, charset="utf-8")
        context = ssl.create_default_context()
        if self.security == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)
