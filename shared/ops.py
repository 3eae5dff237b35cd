"""`/health/live`, `/health/ready` and `/metrics`: every service class inherits these three."""
from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from .auth import Auth
from .http import PUBLIC, api, json_response
from .metrics import CONTENT_TYPE, Metrics
from .providers import BrokerCheck, Database


class StandingsQuery(Schema):
    after = fields.String(load_default="")
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class OperationalEndpoints:
    """Mixin for a nameko service class that has `store` (Database), `broker_ok` (BrokerCheck),
    `metrics` (Metrics) and `auth` (Auth) dependencies. The health and metrics endpoints need no
    token; `/standings` (any role) is this service's view of every service's standing, read by
    `spc reconcile`: the service's own read model, `spec.standings(uow, after, limit)`."""

    @api("GET", "/health/live", role=PUBLIC, summary="The process is alive")
    def health_live(self, request):
        return json_response({"status": "live", "service": self.name})

    @api("GET", "/health/ready", role=PUBLIC,
         summary="Ready: 503 when the database or the broker is unreachable, or the consumers "
                 "are not (yet, or no longer) consuming")
    def health_ready(self, request):
        checks = {"database": _ok(self.store.check), **self.broker_ok()}
        status = 200 if all(checks.values()) else 503
        return json_response({"status": "ready" if status == 200 else "not_ready",
                              "checks": checks}, status=status)

    @api("GET", "/metrics", role=PUBLIC, summary="Prometheus metrics (text format)")
    def metrics_text(self, request):
        self.store.refresh_gauges(self.spec.holdings)
        return Response(self.metrics.render(), content_type=CONTENT_TYPE)

    @api("GET", "/standings", query=StandingsQuery,
         summary="This service's view of each service's standing (read by spc reconcile)")
    def standings(self, request):
        self.auth.require(request)
        query = StandingsQuery().load(request.args.to_dict())
        items = self.spec.standings(self.store.uow(), query["after"], query["limit"])
        following = items[-1]["service_id"] if len(items) == query["limit"] else None
        return json_response({"items": items, "next": following, "service": self.name})


def _ok(check):
    try:
        check()
        return True
    except Exception:
        return False


class SpcService(OperationalEndpoints):
    """Base of every SPC nameko service: its database (opened from `spec`, the service's
    bootstrap: shared/bootstrap.py), staff auth, metrics, readiness and the operational
    endpoints. A service sets `spec` (its name comes from it), then declares its entrypoints."""

    spec = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.spec is not None:
            cls.name = cls.spec.name  # nameko's service name
    store = Database()
    auth = Auth()
    metrics = Metrics()
    broker_ok = BrokerCheck()
