"""`/health/live`, `/health/ready` and `/metrics`: every service class inherits these three."""

import logging
from typing import TYPE_CHECKING

from marshmallow import INCLUDE, Schema, fields, validate
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from ..messaging.consumer import entrypoint_for
from ..web.http import PUBLIC, api, json_response
from ..observe.metrics import Metrics
from .providers import BrokerCheck, Database
from ..observe.tracing import ActiveTrace
from ..sql.retention import Retention
from .timer import periodic

if TYPE_CHECKING:
    from ..sql.bootstrap import ServiceSpec

log = logging.getLogger(__name__)
PRUNE_SECONDS = 600


class RetentionPolicy(DependencyProvider):
    """The retention policy from the config (`RETENTION`, spc.runtime.config; the defaults otherwise)."""

    def setup(self):
        self.policy = self.container.config.get("RETENTION") or Retention()

    def get_dependency(self, worker_ctx):
        return self.policy


class StandingsQuery(Schema):
    after = fields.String(load_default="")
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class LiveOut(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["live"]))
    service = fields.String(required=True)


class ReadyOut(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["ready", "not_ready"]))
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.Boolean(),
        required=True,
        metadata={"description": "database, broker, consumers: each true when fine"},
    )
    broker_blocked = fields.String(
        allow_none=True,
        metadata={
            "description": "why the broker blocks this service's publishing (a memory or disk alarm), null "
            "when it does not. Not a failed check: staff writes still commit, their events "
            "wait in the outbox and go out once the alarm clears"
        },
    )
    relay_error = fields.String(
        allow_none=True,
        metadata={
            "description": "why the outbox relay's last round failed (the broker gave no confirm: a queue "
            "without its quorum; no connection...), null once a round succeeds. Not a failed "
            "check either: the rows stay unsent and the relay tries again with backoff"
        },
    )


class StandingOut(Schema):
    """Every service says service_id, status and version; each adds what it holds (listings,
    tranches, open violations...)."""

    class Meta:
        unknown = INCLUDE

    service_id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True, allow_none=True)


class StandingsOut(Schema):
    items = fields.List(fields.Nested(StandingOut), required=True)
    next = fields.String(
        required=True, allow_none=True, metadata={"description": "pass as `after` for the next page; null on the last"}
    )
    service = fields.String(required=True)


class OperationalEndpoints:
    """Mixin for a nameko service class that has `store` (Database), `broker_ok` (BrokerCheck),
    and `metrics` (Metrics) dependencies (staff auth is the entrypoint's: shared/web/http.py). The
    health and metrics endpoints need no token; `/standings` (any role) is this service's view of
    every service's standing, read by `spc reconcile`: the service's own read model,
    `spec.standings(uow, after, limit)`."""

    @api("GET", "/health/live", role=PUBLIC, response=LiveOut, summary="The process is alive")
    def health_live(self, call):
        return {"status": "live", "service": self.name}

    @api(
        "GET",
        "/health/ready",
        role=PUBLIC,
        response=ReadyOut,
        summary="Ready: 503 when the database or the broker is unreachable, or the consumers "
        "are not (yet, or no longer) consuming",
    )
    def health_ready(self, call):
        checks = {"database": _ok(self.store.check), **self.broker_ok()}
        status = 200 if all(checks.values()) else 503
        return json_response(
            {
                "status": "ready" if status == 200 else "not_ready",
                "checks": checks,
                "broker_blocked": self.store.broker_blocked(),
                "relay_error": self.store.relay_error(),
            },
            status=status,
        )

    @api(
        "GET",
        "/metrics",
        role=PUBLIC,
        summary="Prometheus metrics (text format; OpenMetrics, with "
        "exemplars naming traces, when the Accept header asks for application/openmetrics-text)",
    )
    def metrics_text(self, call):
        self.store.refresh_gauges(self.spec.holdings)
        text, content_type = self.metrics.render(call.accept)
        return Response(text, content_type=content_type)

    @api(
        "GET",
        "/standings",
        query=StandingsQuery,
        response=StandingsOut,
        summary="This service's view of each service's standing (read by spc reconcile)",
    )
    def standings(self, call):
        query = call.query
        items = self.spec.standings(self.store.uow(), query["after"], query["limit"])
        following = items[-1]["service_id"] if len(items) == query["limit"] else None
        return {"items": items, "next": following, "service": self.name}


def _ok(check):
    try:
        check()
        return True
    except Exception:
        return False


class SpcService(OperationalEndpoints):
    """Base of every SPC nameko service: its database (opened from `spec`, the service's
    bootstrap: shared/sql/bootstrap.py), staff auth, metrics, readiness and the operational
    endpoints. A service sets `spec` (its name comes from it), then declares its entrypoints."""

    spec: "ServiceSpec | None" = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.spec is not None:
            cls.name = cls.spec.name  # nameko's service name
            for consumes in cls.spec.consumers:  # an entrypoint per queue, from its one declaration
                setattr(cls, consumes.entrypoint, entrypoint_for(consumes))

    def consumed(self, consumes):
        """A worker applied what it took from the queue of `consumes` (committed): a hook."""

    store = Database()
    metrics = Metrics()
    broker_ok = BrokerCheck()
    retention = RetentionPolicy()
    trace = ActiveTrace()  # the span of each worker's entrypoint, current in its greenthread

    @periodic(interval=PRUNE_SECONDS, config_key="PRUNE_SECONDS")  # SPC_PRUNE_SECONDS
    def prune(self):
        """What the retention policy no longer keeps goes (shared/sql/retention.py)."""
        deleted = self.store.prune(self.retention)
        if any(deleted.values()):
            log.info("pruned %s", ", ".join(f"{n} from {table}" for table, n in deleted.items() if n))
