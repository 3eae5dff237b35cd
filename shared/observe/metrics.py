"""Prometheus metrics: one registry per service container (never the global one), named
`spc_<service>_<thing>_<unit>` and declared once here."""

import re
import threading

from nameko.extensions import DependencyProvider, SharedExtension
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ServiceMetrics:
    def __init__(self, service):
        self.registry = r = CollectorRegistry()
        p = f"spc_{service}"
        self.consumed = Counter(f"{p}_events_consumed_total", "Events applied", ["event_type"], registry=r)
        self.duplicates = Counter(
            f"{p}_duplicates_ignored_total", "Redelivered or duplicate events ignored", ["event_type"], registry=r
        )
        self.dead_lettered = Counter(
            f"{p}_dead_lettered_total", "Messages dead-lettered, by reason code", ["queue", "reason"], registry=r
        )
        self.redeliveries = Counter(
            f"{p}_redeliveries_total", "Messages the broker delivered again (redelivered flag set)", ["queue"], registry=r
        )
        self.retries = Counter(f"{p}_retries_total", "Messages requeued after a failed attempt", ["queue"], registry=r)
        self.database_waits = Counter(
            f"{p}_database_waits_total", "Tries that found the database unreachable (event held)", registry=r
        )
        self.delivery = Histogram(
            f"{p}_event_delivery_seconds",
            "From an event's occurred_at to its effect committed here",
            ["event_type"],
            registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
        )
        self.holdings = Gauge(
            f"{p}_holdings",
            "What this service holds now, by kind and status (counted when /metrics is read)",
            ["kind", "status"],
            registry=r,
        )
        self.statements = Counter(
            f"{p}_database_statements_total",
            "SQL statements sent to the database, by origin (consumer, relay, "
            "other) and kind (`update outbox`, `insert processed_events`, "
            "`select`...), and commits (`commit`)",
            ["origin", "statement"],
            registry=r,
        )
        self.handler_seconds = Histogram(f"{p}_handler_seconds", "Time to apply one event", ["event_type"], registry=r)
        self.published = Counter(f"{p}_outbox_published_total", "Events relayed from the outbox", registry=r)
        self.relay_errors = Counter(f"{p}_outbox_relay_errors_total", "Failed relay rounds", registry=r)
        self.outbox_lag = Gauge(f"{p}_outbox_lag_seconds", "Age of the oldest unsent outbox event", registry=r)
        self.broker_blocked = Gauge(
            f"{p}_broker_blocked",
            "1 while the broker blocks this service's publishing (a memory or disk alarm): its events wait in the outbox",
            registry=r,
        )
        self.pruned = Counter(
            f"{p}_pruned_rows_total",
            "Rows deleted by the retention policy (inbox, sent outbox, idempotency keys, staff history), by table",
            ["table"],
            registry=r,
        )
        self.batch_size = Histogram(
            f"{p}_batch_events",
            "Events applied together in one transaction",
            ["queue"],
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=r,
        )
        self.parked = Gauge(f"{p}_parked_facts", "Facts kept until the service they name is known", registry=r)
        self.http = Counter(f"{p}_http_requests_total", "Admin HTTP requests", ["method", "status"], registry=r)
        self.http_seconds = Histogram(
            f"{p}_http_request_seconds",
            "Admin HTTP request latency, by route",
            ["method", "route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.auth_refusals = Counter(
            f"{p}_auth_refusals_total",
            "Staff requests refused before any use "
            "case: no bearer token, an unknown one, a token of a role the "
            "operation does not admit, or a client past its bound of failures",
            ["reason"],
            registry=r,
        )
        self.identity_lookups = Counter(
            f"{p}_identity_lookups_total",
            "The registry's questions to the national "
            "registries (API Recherche d'entreprises, API Entreprise), by result: found, not_found, "
            "limited (429), failed (timeout, 5xx, refused), open (the breaker "
            "answered: not asked)",
            ["result"],
            registry=r,
        )
        self.http_undeclared = Counter(
            f"{p}_http_undeclared_errors_total",
            "Error answers an endpoint's @api(errors=...) does not declare "
            "(a documentation bug: openapi.yaml does not list them)",
            ["error"],
            registry=r,
        )

    def count_statements(self, engine):
        """Count what `engine` sends: each statement by its origin and kind, and each commit."""
        from sqlalchemy import event

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn, cursor, statement, parameters, context, executemany):
            self.statements.labels(getattr(origin, "name", "other"), statement_kind(statement)).inc()

        @event.listens_for(engine, "commit")
        def _commit(conn):
            self.statements.labels(getattr(origin, "name", "other"), "commit").inc()

    def render(self, accept=""):
        """(text, content type): Prometheus' text format, or OpenMetrics (with the exemplars naming
        a trace: docs/operations.md, "Traces") when `accept` (the scraper's Accept) asks for it."""
        if "application/openmetrics-text" in (accept or ""):
            from prometheus_client.openmetrics import exposition

            return exposition.generate_latest(self.registry).decode("utf-8"), exposition.CONTENT_TYPE_LATEST
        return generate_latest(self.registry).decode("utf-8"), CONTENT_TYPE


origin = threading.local()  # .name: who sends the statements of this (green)thread: consumer, relay


def set_origin(name):
    """Count this greenthread's statements under `name` (consumer, relay; other when unset)."""
    origin.name = name


_WRITE = re.compile(r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE)


def statement_kind(statement):
    """`insert outbox`, `update outbox`, `delete processed_events`; `select`, `with`, `pragma`..."""
    write = _WRITE.match(statement)
    if write:
        return f"{write.group(1).split()[0].lower()} {write.group(2).lower()}"
    head = statement.lstrip()[:12].split(None, 1)
    return head[0].lower() if head else "empty"


class MetricsHub(SharedExtension):
    """One ServiceMetrics per container, shared by its entrypoints and providers."""

    def setup(self):
        self.metrics = ServiceMetrics(self.container.service_name)


class Metrics(DependencyProvider):
    hub = MetricsHub()

    def get_dependency(self, worker_ctx):
        return self.hub.metrics
