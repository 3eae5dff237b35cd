"""Publishing to RabbitMQ (or the embedded broker) with publisher confirms, persistent messages."""
import logging

import eventlet
from kombu import Connection, Producer

from . import envelope, topology

log = logging.getLogger(__name__)


def amqp_connection(uri, heartbeat=30):
    options = {"confirm_publish": True} if uri.startswith(("amqp", "pyamqp")) else {}
    return Connection(uri, transport_options=options, heartbeat=heartbeat)


class Publisher:
    """One confirmed publisher over one connection; safe to share between greenthreads."""

    def __init__(self, uri):
        self.uri = uri
        self._lock = eventlet.semaphore.Semaphore(1)
        self._conn = None
        self._producer = None

    def _ensure(self):
        if self._producer is None:
            self._conn = amqp_connection(self.uri)
            self._conn.ensure_connection(max_retries=3)
            channel = self._conn.channel()
            topology.declare_all(channel)
            self._producer = Producer(channel)
        return self._producer

    def publish_raw(self, body, exchange, routing_key, headers=None, message_id=None,
                    type_=None, content_type="application/json"):
        """Publish and wait for the broker's confirm. A connection that went stale while idle is
        replaced and the publish tried once more (a possible duplicate, which consumers absorb)."""
        with self._lock:
            for attempt in (1, 2):
                had_connection = self._producer is not None
                try:
                    self._ensure().publish(
                        body, exchange=exchange, routing_key=routing_key, headers=headers or {},
                        message_id=message_id, type=type_, content_type=content_type,
                        content_encoding="utf-8", delivery_mode=2, retry=False)
                    return
                except Exception:
                    self.close()
                    if attempt == 2 or not had_connection:
                        raise
                    log.info("publisher connection was stale; reconnecting")

    def keepalive(self):
        """Send a heartbeat if one is due (call about once a second while idle)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.heartbeat_check()
                except Exception:
                    self.close()

    def publish_event(self, event, exchange=topology.EVENTS):
        self.publish_raw(envelope.to_bytes(event), exchange, event.event_type,
                         message_id=str(event.event_id), type_=event.event_type)

    def close(self):
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # the connection is already gone: nothing to release
                log.debug("publisher connection close failed", exc_info=True)
