"""Publishing to RabbitMQ (or the embedded broker) with publisher confirms, persistent messages."""

import logging
import os
import socket
import ssl
import time
from urllib.parse import unquote, urlsplit

import amqp
import eventlet
from kombu import Connection, Producer

from ..core import envelope
from ..observe import failpoints
from . import topology

log = logging.getLogger(__name__)


TLS_FILES = ("SPC_AMQP_CA_FILE", "SPC_AMQP_CERT_FILE", "SPC_AMQP_KEY_FILE")


def amqp_ssl(uri, environ=None):
    """py-amqp's TLS options for an `amqps://` AMQP_URI (None for `amqp://`): the broker's
    certificate verified against SPC_AMQP_CA_FILE (else the system's CAs) and against the host
    of the URI of the node connected to; a client certificate (SPC_AMQP_CERT_FILE and
    SPC_AMQP_KEY_FILE) for RabbitMQ's x509 login. A fresh dict each call: kombu writes the
    node's host name into it."""
    if not uri.strip().lower().startswith("amqps://"):
        return None
    environ = os.environ if environ is None else environ
    ca, cert, key = (environ.get(name) or None for name in TLS_FILES)
    # the name to check: the URI's host (kombu would connect to "localhost" as 127.0.0.1, and
    # check that); with a failover list, None: kombu puts the host of each node it connects to
    nodes = [u for u in uri.split(";") if u.strip()]
    host = urlsplit(nodes[0].strip()).hostname if len(nodes) == 1 else None
    options = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": host}
    if ca:
        options["ca_certs"] = ca
    if cert:
        options.update(certfile=cert, keyfile=key)
    return options


def tls_context(environ=None):
    """The same, as an SSLContext (pika's)."""
    environ = os.environ if environ is None else environ
    ca, cert, key = (environ.get(name) or None for name in TLS_FILES)
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    return context


def amqp_login(uri, ssl_options=None):
    """The broker user a connection to `uri` logs in as, None where it cannot be told from the
    URI (the embedded broker; a client certificate's login without a user in the URI, whose
    name is the certificate's). Published as a message's `user_id`, which RabbitMQ refuses
    unless it is the connection's own user: the broker's word on who published it."""
    node = uri.split(";")[0].strip()
    if not node.lower().startswith(("amqp://", "amqps://", "pyamqp://")):
        return None
    user = urlsplit(node).username
    if user:
        return unquote(user)
    return None if (ssl_options or {}).get("certfile") else "guest"  # kombu's default login


def amqp_connection(uri, heartbeat=30, on_blocked=None, on_unblocked=None, ssl_options=None):
    options = {"confirm_publish": True} if uri.startswith(("amqp", "pyamqp")) else {}
    if on_blocked is not None and options:  # RabbitMQ's connection.blocked / unblocked (py-amqp)
        options.update(on_blocked=on_blocked, on_unblocked=on_unblocked)
    return Connection(uri, transport_options=options, heartbeat=heartbeat, ssl=ssl_options or False)


class Publisher:
    """One confirmed publisher over one connection; safe to share between greenthreads.

    `blocked`: the reason RabbitMQ gave when it blocked this connection (a memory or disk alarm:
    `connection.blocked`), None otherwise. While blocked, a batch waits for its confirms as long
    as the alarm lasts (its rows stay unsent in the outbox), reading the socket, not spinning."""

    def __init__(self, uri, service=None, ssl_options=None):
        self.uri, self.service = uri, service  # `service`: whose queues it declares (topology.declare)
        self.ssl_options = ssl_options  # amqp_ssl(uri): the container's AMQP_SSL
        self.login = amqp_login(uri, ssl_options)  # the `user_id` the broker lets it write
        self._lock = eventlet.semaphore.Semaphore(1)
        self._conn = None
        self._producer = None
        self._batch_channel = None
        self.blocked = None

    def _on_blocked(self, reason="connection blocked"):
        if self.blocked is None:
            log.warning("the broker blocks publishing (%s): events wait in the outbox", reason)
        self.blocked = reason or "connection blocked"

    def _on_unblocked(self):
        if self.blocked is not None:
            log.info("the broker takes publishes again")
        self.blocked = None

    def _ensure(self):
        if self._producer is None:
            self._conn = amqp_connection(
                self.uri,
                on_blocked=self._on_blocked,
                on_unblocked=self._on_unblocked,
                ssl_options=dict(self.ssl_options) if self.ssl_options else None,
            )
            self._conn.ensure_connection(max_retries=3)
            channel = self._conn.channel()
            topology.declare(channel, self.service)
            self._producer = Producer(channel)
        return self._producer

    def publish_raw(
        self,
        body,
        exchange,
        routing_key,
        headers=None,
        message_id=None,
        type_=None,
        content_type="application/json",
        signed=False,
    ):
        """Publish and wait for the broker's confirm. A connection that went stale while idle is
        replaced and the publish tried once more (a possible duplicate, which consumers absorb).
        `signed`: with `user_id` set to this connection's login, which the broker checks."""
        extra = {"user_id": self.login} if signed and self.login else {}
        with self._lock:
            for attempt in (1, 2):
                had_connection = self._producer is not None
                try:
                    self._ensure().publish(
                        body,
                        exchange=exchange,
                        routing_key=routing_key,
                        headers=headers or {},
                        message_id=message_id,
                        type=type_,
                        content_type=content_type,
                        content_encoding="utf-8",
                        delivery_mode=2,
                        retry=False,
                        **extra,
                    )
                    return
                except Exception:
                    self.close()
                    if attempt == 2 or not had_connection:
                        raise
                    log.info("publisher connection was stale; reconnecting")

    def publish_many(self, messages, timeout=30.0):
        """Publish `messages` (dicts: body, exchange, routing_key, message_id, type, headers) and wait for
        the broker's confirms of all of them at once, instead of one round trip each. Returns
        how many of them, from the first, the broker confirmed; raises if it refused any (the
        caller keeps those rows and tries again)."""
        if not self.uri.startswith(("amqp", "pyamqp")):  # the embedded broker has no confirms
            for m in messages:
                self.publish_raw(
                    m["body"],
                    m["exchange"],
                    m["routing_key"],
                    headers=m.get("headers"),
                    message_id=m.get("message_id"),
                    type_=m.get("type"),
                )
            return len(messages)
        with self._lock:
            try:
                return self._publish_confirmed(messages, timeout)
            except Exception:
                self.close()
                raise

    def _publish_confirmed(self, messages, timeout):
        channel = self._confirm_channel()
        for m in messages:
            # _basic_publish: the plain publish (this connection's basic_publish waits for each
            # confirm); the confirms are awaited below, all together
            channel._basic_publish(
                amqp.Message(
                    m["body"],
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=m.get("message_id"),
                    type=m.get("type"),
                    application_headers=m.get("headers") or {},
                ),
                exchange=m["exchange"],
                routing_key=m["routing_key"],
            )
            channel.next_tag += 1
            channel.unconfirmed.add(channel.next_tag - 1)
        failpoints.fire("relay.before_confirms")  # off in production
        deadline = time.monotonic() + timeout
        while channel.unconfirmed and not channel.nacked:
            if self.blocked is not None:  # an alarm: the confirms come when it clears, however long
                deadline = time.monotonic() + timeout
            elif time.monotonic() > deadline:
                raise TimeoutError(f"no confirm from the broker in {timeout:g} s")
            try:
                self._conn.drain_events(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
            except socket.timeout:
                pass
        if channel.nacked:
            raise RuntimeError(f"the broker refused {len(channel.nacked)} of {len(messages)} message(s)")
        return len(messages)

    def _confirm_channel(self):
        """A channel of our own in confirm mode, with the delivery tags not yet confirmed."""
        self._ensure()
        channel = getattr(self, "_batch_channel", None)
        if channel is None:
            channel = self._conn.connection.channel()
            channel.confirm_select()
            channel.next_tag, channel.unconfirmed, channel.nacked = 1, set(), set()

            def settle(tag, multiple, ch=channel):
                done = {t for t in ch.unconfirmed if t <= tag} if multiple else {tag}
                ch.unconfirmed -= done
                return done

            def on_nack(tag, multiple, ch=channel):
                ch.nacked |= settle(tag, multiple)

            channel.events["basic_ack"].add(settle)
            channel.events["basic_nack"].add(on_nack)
            self._batch_channel = channel
        channel.nacked = set()
        return channel

    def keepalive(self):
        """Send a heartbeat if one is due (call about once a second while idle)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.heartbeat_check()
                except Exception:
                    self.close()

    def publish_event(self, event, exchange=topology.EVENTS):
        self.publish_raw(
            envelope.to_bytes(event), exchange, event.event_type, message_id=str(event.event_id), type_=event.event_type
        )

    def close(self):
        conn, self._conn, self._producer = self._conn, None, None
        self.blocked = None
        self._batch_channel = None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # the connection is already gone: nothing to release
                log.debug("publisher connection close failed", exc_info=True)
