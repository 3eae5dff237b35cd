"""The admin HTTP entrypoint: JSON in and out, one error-to-status map, never a stack trace."""
import json
import logging

from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import DomainError
from .metrics import MetricsHub

log = logging.getLogger(__name__)


def error_response(status, code, message, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, default=str), status=status, headers=headers,
                    mimetype="application/json")


def read_json(request):
    """The request body as a JSON object, or a 400."""
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise DomainError("the body is not valid JSON", {"reason": str(exc)}, code="invalid_json") from None
    if not isinstance(body, dict):
        raise DomainError("the body must be a JSON object", code="invalid_json")
    return body




class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer in JSON too."""

    def __call__(self, environ, start_response):
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
        except HTTPException as exc:
            return error_response(exc.code, exc.name.lower().replace(" ", "_"),
                                  exc.description)(environ, start_response)
        request = Request(environ, shallow=True)
        request.path_values = values
        return provider.handle_request(request)(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


PUBLIC, ANY_ROLE = None, "any"


class JsonHttp(HttpRequestHandler):
    """`@api("POST", "/services", role="registrar", body=RegisterServiceIn, status=201)`: the method
    returns a Response (see json_response). `role` (PUBLIC: no token; ANY_ROLE: any staff token;
    else that role), `body`, `query` (marshmallow schemas), `summary` and `status` describe the
    operation in openapi.yaml (`spc openapi`); tests hold the handlers to them."""

    server = JsonWebServer()
    hub = MetricsHub()

    def __init__(self, method, url, role=ANY_ROLE, body=None, query=None, summary="", status=200,
                 **kwargs):
        kwargs.setdefault("expected_exceptions", (DomainError, ValidationError))
        self.role, self.body, self.query, self.summary, self.status = role, body, query, summary, status
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        response = super().handle_request(request)
        self.hub.metrics.http.labels(request.method, str(response.status_code)).inc()
        return response

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            status = 400 if exc.code == "invalid_json" else exc.status
            retry = getattr(exc, "retry_after", None)
            return error_response(status, exc.code, exc.message, exc.details,
                                  {"Retry-After": str(retry)} if retry else None)
        if isinstance(exc, ValidationError):
            return error_response(400, "invalid_request", "the request is not valid",
                                  {"fields": exc.messages})
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            return error_response(exc.code, "bad_request", exc.description)
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return error_response(500, "internal_error", "internal error")


api = JsonHttp.decorator
