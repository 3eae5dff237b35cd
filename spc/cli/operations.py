"""Operator commands that talk to RabbitMQ directly: the reference publisher and the DLQ."""

import json
import os
import uuid

import pika

from spc.shared.core import envelope
from spc.shared.core.errors import Rejection

from .errors import BrokerError, mask_url

DEAD_LETTER_QUEUES = ("spc.inbound.dead", "spc.events.dead")


class BrokerRefused(BrokerError):
    """The broker answers but refuses the login or the virtual host: a setting to fix, not a
    moment to wait out."""


class PublishError(BrokerError):
    """An event file that cannot be published (unreadable, invalid, or refused)."""


def load_event_file(path):
    """Read and validate an event file (envelope + payload) before anything is sent."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise PublishError(f"{path}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise PublishError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(doc, dict):
        doc.setdefault("event_id", str(uuid.uuid4()))
        raw = json.dumps(doc).encode()
    try:
        event = envelope.parse(raw)
    except Rejection as rejection:
        errors = envelope.schema_errors(doc) if rejection.code.startswith("schema_error") else []
        if len(errors) > 1:  # every one at once, not the first of several tries
            raise PublishError(
                f"{path}: {len(errors)} schema errors: " + "; ".join(f"{where}: {what}" for where, what in errors)
            ) from None
        raise PublishError(f"{path}: {rejection.header}") from None
    return event, raw


def pika_parameters(amqp_uri, environ=None):
    """AMQP_URI as pika takes it: one URI, or a failover list separated by `;` (as kombu takes
    it: the nodes of a cluster), tried in order. `amqps://`: TLS with the CA of SPC_AMQP_CA_FILE
    (else the system's), the node's host name checked; with a client certificate
    (SPC_AMQP_CERT_FILE, SPC_AMQP_KEY_FILE) and no user in the URI, RabbitMQ's x509 login
    (EXTERNAL: the broker user named by the certificate)."""
    from urllib.parse import urlsplit
    from spc.shared.messaging.broker import tls_context

    environ = os.environ if environ is None else environ
    params = []
    for uri in (u.strip() for u in amqp_uri.split(";")):
        if not uri:
            continue
        param = pika.URLParameters(uri)
        if uri.lower().startswith("amqps://"):
            param.ssl_options = pika.SSLOptions(tls_context(environ), param.host)
            if environ.get("SPC_AMQP_CERT_FILE") and urlsplit(uri).username is None:
                param.credentials = pika.credentials.ExternalCredentials()
        params.append(param)
    return params


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def connect(amqp_uri):
    """A pika BlockingConnection to AMQP_URI (its nodes in order); BrokerError in one line, the
    password masked, if no node lets us in."""
    try:
        params = pika_parameters(amqp_uri)
    except OSError as exc:  # the TLS files (ssl.SSLError is an OSError too)
        raise BrokerRefused(
            f"the TLS files cannot be used ({(exc.strerror or _first_line(exc)).lower()}): "
            "SPC_AMQP_CA_FILE, SPC_AMQP_CERT_FILE, SPC_AMQP_KEY_FILE"
        ) from None
    except Exception as exc:  # pika's own words on what it could not parse; never the URI itself
        raise BrokerError(f"AMQP_URI is not a valid AMQP URI ({type(exc).__name__})") from None
    if not params:
        raise BrokerError("AMQP_URI is empty")
    where = mask_url(amqp_uri)
    try:
        return pika.BlockingConnection(params)
    except (pika.exceptions.ProbableAuthenticationError, pika.exceptions.AuthenticationError):
        raise BrokerRefused(f"the broker refused the login (ACCESS_REFUSED) at {where}") from None
    except pika.exceptions.ProbableAccessDeniedError:
        raise BrokerRefused(
            f"the broker refused access to the virtual host at {where} (no such vhost, or the user has no permission on it)"
        ) from None
    except (pika.exceptions.AMQPConnectionError, OSError) as exc:
        untrusted = _certificate_error(exc)
        if untrusted is not None:
            raise BrokerRefused(
                f"the broker's TLS certificate is refused at {where}: {untrusted} "
                "(SPC_AMQP_CA_FILE names the CA to trust; the URI's host must be a "
                "name the certificate carries)"
            ) from None
        reason = _socket_reason(exc)
        raise BrokerError(f"cannot reach the broker at {where}" + (f": {reason}" if reason else "")) from None


def _certificate_error(exc):
    """What TLS said when the broker's certificate was refused (None if it was not that)."""
    import ssl

    seen = 0
    while exc is not None and seen < 6:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return exc.verify_message or _first_line(exc)
        inner = getattr(exc, "exception", None)
        if inner is None:
            inner = (getattr(exc, "exceptions", None) or exc.args or (None,))[-1]
        exc = inner if isinstance(inner, BaseException) else None
        seen += 1
    return None


def _socket_reason(exc):
    """What the socket said under pika's wrappers (connection refused, unknown host...)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return (exc.strerror or _first_line(exc)).lower()
        inner = getattr(exc, "exception", None)  # pika's connector errors wrap the socket's
        if inner is None:
            inner = (getattr(exc, "exceptions", None) or exc.args or (None,))[-1]
        exc = inner if isinstance(inner, BaseException) else None
        seen += 1
    return ""


def publish(amqp_uri, event, raw, exchange="spc.inbound"):
    """Publish one event with confirms, persistent, message_id and type set; raise if refused."""
    try:
        conn = connect(amqp_uri)
    except BrokerError as exc:
        raise PublishError(str(exc)) from None
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange,
            event.event_type,
            raw,
            pika.BasicProperties(
                content_type="application/json", delivery_mode=2, message_id=str(event.event_id), type=event.event_type
            ),
            mandatory=True,
        )
    except pika.exceptions.UnroutableError:
        raise PublishError("the broker could not route the event (is SPC's topology declared?)") from None
    except pika.exceptions.NackError:
        raise PublishError("the broker refused the event (negative confirm)") from None
    except pika.exceptions.ChannelClosedByBroker as exc:  # e.g. 403 ACCESS_REFUSED, 404 NOT_FOUND
        raise PublishError(f"the broker refused the event: {exc.reply_code} {exc.reply_text}") from None
    except pika.exceptions.AMQPError as exc:
        raise PublishError(f"broker error: {type(exc).__name__} {_first_line(exc)}") from None
    finally:
        if conn.is_open:
            conn.close()


def dlq_messages(amqp_uri, queue, limit=100, environ=None):
    """Peek at dead letters: got and then returned to the queue (nothing is lost)."""
    logins = trusted_logins(amqp_uri, environ)
    conn = connect(amqp_uri)
    out = []
    try:
        channel = conn.channel()
        tags = []
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            out.append(
                {
                    "message_id": props.message_id,
                    "type": props.type,
                    "reason": (props.headers or {}).get("x-spc-rejection"),
                    "queue": (props.headers or {}).get("x-spc-queue"),
                    "dead_lettered_by": _dead_lettered_by(props),
                    "trust": dead_letter_trust(props, logins),
                    "routing_key": (props.headers or {}).get("x-spc-original-routing-key"),
                    "size": len(body),
                    "body": _excerpt(body),
                }
            )
        for tag in tags:
            channel.basic_nack(tag, requeue=True)
    finally:
        if conn.is_open:
            conn.close()
    return out


def _excerpt(body, size=300):
    """What `spc dlq list` shows of a dead letter's body: its first `size` characters, a citizen's
    words and other personal fields withheld (catalogue.redacted). A body that is not JSON shows
    no text at all: it cannot be told what it holds."""
    from spc.shared.core.events import redacted

    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"[not JSON: {len(body)} bytes withheld]"
    return json.dumps(redacted(doc), ensure_ascii=False)[:size]


def _dead_lettered_by(props):
    """The login that dead-lettered it as the broker vouches (`user_id`), "broker" for the
    broker's own dead-lettering (x-death: the delivery limit), else None."""
    headers = props.headers or {}
    if headers.get("x-spc-queue"):
        return props.user_id
    return "broker" if headers.get("x-death") else None


def _origin_queue(props):
    """The queue that dead-lettered the message: ours (x-spc-queue) or the broker's (x-death)."""
    headers = props.headers or {}
    if headers.get("x-spc-queue"):
        return headers["x-spc-queue"]
    deaths = headers.get("x-death") or []
    return deaths[0].get("queue") if deaths else None


def _replayable(target, props, body):
    """Only into one of SPC's consumer queues, and only a type that queue takes: a dead letter's
    headers are written by whoever published it to spc.dead (each SPC service may), so they must
    not steer a replay elsewhere, e.g. into an outside consumer's queue (docs/security.md)."""
    from spc.shared.messaging import topology

    try:
        queue = topology.queue_named(target or "")
    except KeyError:
        return False
    if queue.event_types is None:  # the journal: whatever spc.events carries
        return True
    event_type = props.type
    if not event_type:  # a publisher that did not set the property: the envelope says it
        try:
            event_type = json.loads(body).get("event_type")
        except (ValueError, UnicodeDecodeError, AttributeError):
            return False
    return event_type in queue.event_types


VERIFIED, UNVERIFIED, FORGED = "verified", "unverified", "forged"


def trusted_logins(amqp_uri, environ=None):
    """{service: the broker logins trusted to dead-letter from its queues}: its own user as
    deploy/rabbitmq/definitions.json names it (`spc-<service>`), the login of its
    `<SERVICE>_AMQP_URI` where one is set, and the login replaying (the operator's; on a local
    broker where every service logs in as guest, guest)."""
    from spc.shared.core import events
    from spc.shared.messaging.broker import amqp_login, amqp_ssl

    environ = os.environ if environ is None else environ
    replaying = amqp_login(amqp_uri, amqp_ssl(amqp_uri, environ))
    logins = {}
    for service in events.SERVICES:
        own = environ.get(f"{service.upper()}_AMQP_URI")
        logins[service] = {f"spc-{service}", replaying, own and amqp_login(own, amqp_ssl(own, environ))} - {None, ""}
    return logins


def dead_letter_trust(props, logins):
    """Who put a dead letter where it is, as far as the broker vouches for it. `verified`: SPC's
    consumer of the queue it names (x-spc-queue) dead-lettered it, and the broker checked that
    login (`user_id`, which RabbitMQ refuses unless it is the publisher's own). `forged`: it
    names a queue, and the broker says another login wrote it: any SPC service's user may
    publish to spc.dead, so a stolen one could address a forged event to another service's
    queue. `unverified`: nothing vouches for its origin: dead-lettered by the broker itself (the
    delivery limit: x-death), before SPC signed its dead letters, or by whoever left `user_id`
    out."""
    headers = props.headers or {}
    if not headers.get("x-spc-queue") or not props.user_id:
        return UNVERIFIED
    from spc.shared.messaging import topology

    try:
        owner = topology.queue_named(headers["x-spc-queue"]).owner
    except KeyError:
        return FORGED
    return VERIFIED if props.user_id in logins.get(owner, ()) else FORGED


def dlq_replay(amqp_uri, queue, limit=1000, message_id=None, unverified=False, environ=None):
    """Put dead letters back on the queue that rejected them (through the default exchange, so
    no other consumer sees them twice), confirmed, then ack them. `message_id` picks one. Only
    verified ones (dead_letter_trust), and unverified ones too when `unverified`; forged ones
    never. A message that fails again comes back here with its new reason. Returns how many
    were replayed and {trust: how many were kept for it}."""
    logins = trusted_logins(amqp_uri, environ)
    conn = connect(amqp_uri)
    replayed, skipped, kept = 0, [], {}
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        for _ in range(limit):
            method, props, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            target = _origin_queue(props)
            if (message_id is not None and props.message_id != message_id) or not _replayable(target, props, body):
                skipped.append(method.delivery_tag)
                continue
            trust = dead_letter_trust(props, logins)
            if trust == FORGED or (trust == UNVERIFIED and not unverified):
                kept[trust] = kept.get(trust, 0) + 1
                skipped.append(method.delivery_tag)
                continue
            headers = {k: v for k, v in (props.headers or {}).items() if not k.startswith("x-spc-") and k != "x-death"}
            headers["x-spc-replayed-from"] = queue
            channel.basic_publish(
                "",
                target,
                body,
                pika.BasicProperties(
                    content_type=props.content_type,
                    delivery_mode=2,
                    message_id=props.message_id,
                    type=props.type,
                    headers=headers,
                ),
                mandatory=True,
            )
            channel.basic_ack(method.delivery_tag)
            replayed += 1
        for tag in skipped:
            channel.basic_nack(tag, requeue=True)
    finally:
        if conn.is_open:
            conn.close()
    return replayed, kept
