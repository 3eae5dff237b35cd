"""`/health/live`, `/health/ready` and `/metrics`: every service class inherits these three."""
from werkzeug.wrappers import Response

from .http import api, json_response
from .metrics import CONTENT_TYPE


class OperationalEndpoints:
    """Mixin for a nameko service class that has `store` (Database), `broker_ok` (BrokerCheck)
    and `metrics` (Metrics) dependencies. None of these endpoints needs a token."""

    @api("GET", "/health/live")
    def health_live(self, request):
        return json_response({"status": "live", "service": self.name})

    @api("GET", "/health/ready")
    def health_ready(self, request):
        checks = {"database": _ok(self.store.check), "broker": bool(self.broker_ok())}
        status = 200 if all(checks.values()) else 503
        return json_response({"status": "ready" if status == 200 else "not_ready",
                              "checks": checks}, status=status)

    @api("GET", "/metrics")
    def metrics_text(self, request):
        return Response(self.metrics.render(), content_type=CONTENT_TYPE)


def _ok(check):
    try:
        check()
        return True
    except Exception:
        return False
