"""The admin HTTP entrypoint: JSON in and out, one error-to-status map, never a stack trace."""
import json
import logging

from marshmallow import ValidationError
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import Conflict, DomainError, Forbidden, InvalidRequest, NotFound, Unauthorized
from .metrics import MetricsHub

log = logging.getLogger(__name__)


def error_response(status, code, message, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def json_response(payload, status=200, headers=None):
    return Response(json.dumps(payload, default=str), status=status, headers=headers,
                    mimetype="application/json")


class InvalidJson(InvalidRequest):
    """The body is not a JSON object."""
    code = "invalid_json"


# The one place a kind of domain error becomes an HTTP status (first match wins).
STATUS = ((Unauthorized, 401), (Forbidden, 403), (NotFound, 404), (InvalidRequest, 400), (Conflict, 409))


def http_status(error_class):
    return next((status for kind, status in STATUS if issubclass(error_class, kind)), 400)


def read_json(request):
    """The request body as a JSON object, or a 400."""
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise InvalidJson("the body is not valid JSON", {"reason": str(exc)}) from None
    if not isinstance(body, dict):
        raise InvalidJson("the body must be a JSON object")
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
    """`@api("POST", "/services", role="registrar", body=RegisterServiceIn, status=201,
    errors=(InvalidPact,))`: the method returns a Response (see json_response). `role` (PUBLIC: no
    token; ANY_ROLE: any staff token; else that role), `body`, `query` (marshmallow schemas),
    `summary`, `status` and `errors` (the domain errors of the service's catalogue it may answer,
    besides those of auth and parsing) describe the operation in openapi.yaml (`spc openapi`);
    an answer with an error not declared is still given, and logged and counted as a bug of
    the declaration (`spc_<service>_http_undeclared_errors_total`)."""

    server = JsonWebServer()
    hub = MetricsHub()

    def __init__(self, method, url, role=ANY_ROLE, body=None, query=None, summary="", status=200,
                 errors=(), **kwargs):
        kwargs.setdefault("expected_exceptions", (DomainError, ValidationError))
        self.role, self.body, self.query, self.summary, self.status = role, body, query, summary, status
        self.errors = tuple(errors)
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        response = super().handle_request(request)
        self.hub.metrics.http.labels(request.method, str(response.status_code)).inc()
        return response

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            if not isinstance(exc, self.answerable_errors()):
                log.error("%s answered %s (%s), which its @api(errors=...) does not declare",
                          self.method_name, type(exc).__name__, exc.code)
                self.hub.metrics.http_undeclared.labels(type(exc).__name__).inc()
            retry = getattr(exc, "retry_after", None)
            return error_response(http_status(type(exc)), exc.code, exc.message, exc.details,
                                  {"Retry-After": str(retry)} if retry else None)
        if isinstance(exc, ValidationError):
            return error_response(400, "invalid_request", "the request is not valid",
                                  {"fields": exc.messages})
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            return error_response(exc.code, "bad_request", exc.description)
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return error_response(500, "internal_error", "internal error")

    def answerable_errors(self):
        """Every error class this operation may answer: declared, and those of auth and parsing."""
        implied = (() if self.role is PUBLIC else (Unauthorized,)) + (
            (Forbidden,) if self.role not in (PUBLIC, ANY_ROLE) else ())
        if self.body is not None:
            implied += (InvalidJson,)
        return self.errors + implied


api = JsonHttp.decorator
