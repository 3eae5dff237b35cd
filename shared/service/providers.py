"""nameko dependency providers for a service's database (with its outbox relay) and the broker."""

import logging
import time

import eventlet
from eventlet.queue import LightQueue, Full, Empty
from nameko.extensions import DependencyProvider

from ..web import edge
from ..messaging.consumer import URGENT, RawQueueConsumer
from ..messaging.broker import Publisher, amqp_connection
from ..observe.metrics import MetricsHub, set_origin
from ..sql.bootstrap import ServiceDatabase
from ..sql.outbox import OutboxRelay
from ..sql.persistence import check_database, make_engine
from ..observe.tracing import Traces, sql_spans

log = logging.getLogger(__name__)


class Store:
    """What a worker gets: a fresh unit of work per use case (urgent when the worker serves an
    urgent lane), and a readiness check."""

    def __init__(self, provider, urgent=False):
        self._p, self._urgent = provider, urgent

    def uow(self, call=None):
        """A fresh unit of work; given the staff call it serves, that call's (shared/web/edge.serve)."""
        uow = self._p.database.uow(self._urgent)
        return edge.serve(uow, call) if call is not None else uow

    def check(self):
        check_database(self._p.database.engine)

    def broker_blocked(self):
        """Why the broker blocks this service's publishing (an alarm), or None."""
        return self._p.publisher.blocked

    def prune(self, policy):
        """Delete what the retention policy no longer keeps (shared/sql/retention.py), a batch a
        transaction; counted in spc_<svc>_pruned_rows_total."""
        from ..sql.outbox import _Locked
        from ..sql.retention import prune

        database = self._p.database
        deleted = prune(lambda: _Locked(database.engine, database.lock), self._p.container.service_cls.spec.unit_of_work, policy)
        for table, n in deleted.items():
            if n:
                self._p.hub.metrics.pruned.labels(table).inc(n)
        return deleted

    def relay_error(self):
        """Why the outbox relay's last round failed (no confirm, no connection...), or None."""
        return self._p.relay_error

    def refresh_gauges(self, holdings):
        """Set the gauges read from the database now: the outbox lag (a scrape must see a stuck
        relay, not its last success) and what the service holds (`holdings(uow)`)."""
        metrics = self._p.hub.metrics
        metrics.broker_blocked.set(0 if self.broker_blocked() is None else 1)
        try:
            metrics.outbox_lag.set(self._p.relay.oldest_unsent_age())
            counted = holdings(self.uow())
        except Exception:  # database away: readiness says so; keep the last values
            return
        metrics.holdings.clear()
        for (kind, status), value in counted.items():
            metrics.holdings.labels(kind, status).set(value)


class Database(DependencyProvider):
    """Opens the service's database from its bootstrap spec (`spec` of the service class; engine
    built in setup, disposed at stop), migrates it, and runs the outbox relay in a managed
    greenthread, woken after every commit that added events."""

    hub = MetricsHub()
    traces = Traces()

    def __init__(self, relay_interval=1.0):
        self.relay_interval = relay_interval

    def setup(self):
        config, spec = self.container.config, self.container.service_cls.spec
        self.database = ServiceDatabase(
            spec, make_engine(config["DATABASE_URL"]), migrate=config.get("MIGRATE", True), on_commit=self.kick
        )
        self.publisher = Publisher(config["AMQP_URI"], self.container.service_name, config.get("AMQP_SSL"))
        self.relay = OutboxRelay(self.database.engine, spec.unit_of_work.outbox_table, self.publisher, self.database.lock)
        self._wake = LightQueue(maxsize=1)
        self._running = False
        self.relay_error = None  # the last relay round's failure, until a round succeeds

    def start(self):
        self.hub.metrics.count_statements(self.database.engine)  # (the hub is set up by now)
        self.relay.tracer = self.traces.tracer  # traces on: a `send` span per event,
        sql_spans(self.database.engine, self.traces.tracer)  # and one per statement
        self._running = True
        self._gt = self.container.spawn_managed_thread(self._relay_loop, identifier="outbox_relay")

    def stop(self):
        self._running = False
        self.kick()
        eventlet.sleep(0)
        self.publisher.close()
        self.database.close()

    def kill(self):
        self._running = False
        self.publisher.close()

    def kick(self):
        try:
            self._wake.put_nowait(True)
        except Full:
            pass

    def _relay_loop(self):
        metrics, failures = self.hub.metrics, 0
        set_origin("relay")
        while self._running:
            try:
                self._wake.get(timeout=self.relay_interval)
            except Empty:
                pass
            if not self._running:
                return
            self.publisher.keepalive()
            try:
                metrics.published.inc(self.relay.drain())  # the lag gauge is computed at scrape time
                failures, self.relay_error = 0, None
            except Exception as exc:  # broker or database away: keep the rows, retry with backoff
                failures += 1
                self.relay_error = (f"{type(exc).__name__}: {exc}".splitlines() or [""])[0][:300]
                metrics.relay_errors.inc()
                log.warning("outbox relay failed (%s); retrying", exc)
                eventlet.sleep(min(0.2 * 2**failures, 10.0))

    def get_dependency(self, worker_ctx):
        lane = getattr(worker_ctx.entrypoint, "lane", None)
        set_origin("consumer" if lane is not None else "other")  # (this is the worker's greenthread)
        return Store(self, lane == URGENT)


class BrokerCheck(DependencyProvider):
    """Readiness on the broker's side: a connection can be opened (result cached for two
    seconds), and this service's consumers have declared the topology and are consuming."""

    def setup(self):
        self.uri, self.ssl_options = self.container.config["AMQP_URI"], self.container.config.get("AMQP_SSL")
        self._last = (0.0, False)

    def _check(self):
        at, ok = self._last
        if time.monotonic() - at < 2.0:
            return ok
        conn = amqp_connection(self.uri, ssl_options=dict(self.ssl_options) if self.ssl_options else None)
        try:
            conn.ensure_connection(max_retries=1, timeout=2)
            ok = True
        except Exception:
            ok = False
        finally:
            conn.release()
        self._last = (time.monotonic(), ok)
        return ok

    def _consuming(self):
        """Consuming every queue this process takes, or none to take: a service whose lanes here
        have no queue (registry's and funding's `--lanes bulk` process: all theirs are urgent)
        never consumes, and is ready all the same."""
        consumer = self.container.shared_extensions.get(RawQueueConsumer)
        return consumer is None or consumer.consuming or not consumer._providers

    def get_dependency(self, worker_ctx):
        return lambda: {"broker": self._check(), "consumers": self._consuming()}
