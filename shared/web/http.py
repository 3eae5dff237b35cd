"""The admin HTTP entrypoint. `@api(...)` is the one source of an operation: the entrypoint
authenticates and checks the role, refuses oversized or non-JSON bodies, parses and validates
the body and the query with the declared schemas, hands the method a `Call`, and turns what the
method returns (or raises) into the JSON answer; `spc openapi` documents the same declaration.
Never a stack trace in an answer."""

import functools
import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional

import orjson
from marshmallow import ValidationError
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, PathConverter
from werkzeug.wrappers import Request, Response

from . import edge
from ..observe import tracing
from ..core.explain import explain
from .auth import SCOPED_ROLES, STAFF_ROLES, Actor, TokenAuth, load_tokens
from .edge import IDEMPOTENCY_HEADER, Idempotency, IdempotencyKeyReused, IdempotentRequestInProgress, Replay, fingerprint
from ..core.errors import Conflict, DomainError, Forbidden, InvalidRequest, NotFound, Unauthorized
from ..observe.metrics import MetricsHub
from .oidc import OidcVerifier, ProviderUnavailable
from .public_reads import PublicReads, RateLimited

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
"""Default cap on a request body (env SPC_MAX_BODY_BYTES); past it, 413 before it is read."""
CORRELATION_HEADER = "X-Correlation-Id"
CORRELATION_ID = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:/-]{8,200}")


def error_response(status, code, message, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def json_response(payload, status=200, headers=None):
    """orjson (C): a national counter's catalogue is 0.5 MB of JSON. Datetimes and other types
    go through str(), as json.dumps(default=str) did; non-string keys become strings, as there."""
    return Response(
        orjson.dumps(payload, default=str, option=_ORJSON_OPTIONS), status=status, headers=headers, mimetype="application/json"
    )


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class InvalidJson(InvalidRequest):
    """The body is not a JSON object."""

    code = "invalid_json"


class BodyTooLarge(InvalidRequest):
    """The body is larger than the service accepts (SPC_MAX_BODY_BYTES, 256 KiB by default);
    refused before it is read."""

    code = "body_too_large"


class BadCorrelationId(InvalidRequest):
    """The X-Correlation-Id header is not 1 to 100 letters, digits or `._:/-`."""

    code = "invalid_correlation_id"


class BadText(InvalidRequest):
    """A string in the path, the query or the body holds U+0000 or an unpaired surrogate: text
    is UTF-8 without NUL, as the databases store it."""

    code = "invalid_text"


def check_text(value, where):
    """Raise BadText if any string in `value` (nested lists and dicts included) holds U+0000 or
    cannot be encoded as UTF-8."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BadText(f"{where} holds U+0000", {"where": where})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadText(f"{where} is not valid UTF-8 (an unpaired surrogate)", {"where": where}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, where)
            check_text(item, f"{where}.{key}" if isinstance(key, str) and key.isidentifier() else where)
    elif isinstance(value, list):
        for item in value:
            check_text(item, where)


class BadIdempotencyKey(InvalidRequest):
    """The Idempotency-Key header is not 8 to 200 letters, digits or `._:/-` (a UUID is fine)."""

    code = "invalid_idempotency_key"


class NotJson(InvalidRequest):
    """The body's Content-Type is not JSON (`application/json`)."""

    code = "unsupported_media_type"


# The one place a kind of error becomes an HTTP status (first match wins).
STATUS = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (BodyTooLarge, 413),
    (NotJson, 415),
    (InvalidRequest, 400),
    (Conflict, 409),
    (RateLimited, 429),
)


def http_status(error_class):
    return next((status for kind, status in STATUS if issubclass(error_class, kind)), 400)


@dataclass(frozen=True)
class Call:
    """What an admin endpoint's method receives: who calls (None on a public endpoint), the body
    and the query as loaded by the declared schemas, and the request's correlation id."""

    actor: Optional[Actor]
    body: Optional[dict] = None
    query: Optional[dict] = None
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    idempotency: Optional[Idempotency] = None
    # the unit of work whose commit waits for this call's answer (an Idempotency-Key: the change,
    # the key and the answer commit together; shared/web/edge.py)
    awaiting_answer: list = field(default_factory=list, compare=False, repr=False)
    host: str = ""  # the request's Host (a public page links to another service's page on it)
    accept: str = ""  # the request's Accept (/metrics answers OpenMetrics, with exemplars, to who asks)

    @property
    def by(self):
        """The actor as recorded with an action: `role/label`."""
        return str(self.actor) if self.actor else ""


class StaffTokens(SharedExtension):
    """The staff tokens of one container (SPC_ADMIN_TOKENS / SPC_ADMIN_TOKENS_FILE), read once
    at start-up; says loudly when there are none (every staff endpoint would answer 401)."""

    def setup(self):
        self.environ = environ = self.container.config.get("ENV", os.environ)
        self.oidc = OidcVerifier.from_environ(environ)  # OidcConfigError: spc/cli/preflight.py says it first
        self._auth = TokenAuth(load_tokens(environ), self.oidc)
        self._file_stamp, self._checked_at = self._stamp(), time.monotonic()
        self.max_body = int(environ.get("SPC_MAX_BODY_BYTES") or MAX_BODY_BYTES)
        if not self._auth.credentials and self.oidc is None:
            log.warning(
                "%s: no admin token configured (SPC_ADMIN_TOKENS / SPC_ADMIN_TOKENS_FILE): every staff endpoint will answer 401",
                self.container.service_name,
            )

    @property
    def auth(self):
        """The tokens; SPC_ADMIN_TOKENS_FILE is read again when it changes (checked at most once a
        second), so a token is added or revoked without a restart. A file that no longer parses
        keeps the tokens in force, and says why."""
        now = time.monotonic()
        if now - self._checked_at >= 1.0:
            self._checked_at = now
            stamp = self._stamp()
            if stamp != self._file_stamp:
                self._file_stamp = stamp
                try:
                    self._auth = TokenAuth(load_tokens(self.environ), self.oidc)
                    log.info(
                        "%s: admin tokens reloaded from %s (%d)",
                        self.container.service_name,
                        self.environ.get("SPC_ADMIN_TOKENS_FILE"),
                        len(self._auth.credentials),
                    )
                except (OSError, ValueError) as exc:
                    log.error(
                        "%s: admin tokens file not reloaded, the previous tokens stay in force: %s",
                        self.container.service_name,
                        exc,
                    )
        return self._auth

    def _stamp(self):
        path = self.environ.get("SPC_ADMIN_TOKENS_FILE")
        try:
            info = os.stat(path) if path else None
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size) if info else None


# Sent with every answer (a page, JSON, an error): no MIME sniffing, no Referer leaking a path's
# ids to another site; HSTS once a request is known to have come over https (docs/security.md).
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def came_over_https(environ, trust_forwarded):
    """The request reached SPC over https: directly, or (with SPC_TRUST_FORWARDED=true, behind a
    TLS-terminating proxy that sets it) by the proxy's X-Forwarded-Proto."""
    if environ.get("wsgi.url_scheme") == "https":
        return True
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "") if trust_forwarded else ""
    return forwarded.split(",")[-1].strip().lower() == "https"  # what the proxy wrote, last


class JsonWsgiApp(WsgiApp):
    """Unknown paths and wrong methods answer in JSON too (a wrong method with the `Allow` header
    RFC 9110 requires); every answer carries SECURITY_HEADERS."""

    def __init__(self, server):
        super().__init__(server)
        environ = server.container.config.get("ENV", os.environ)
        self.trust_forwarded = (environ.get("SPC_TRUST_FORWARDED") or "").lower() == "true"

    def __call__(self, environ, start_response):
        extra = SECURITY_HEADERS + ((HSTS,) if came_over_https(environ, self.trust_forwarded) else ())

        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            return start_response(status, list(headers) + [h for h in extra if h[0].lower() not in present], exc_info)

        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
        except HTTPException as exc:
            allowed = getattr(exc, "valid_methods", None)
            return error_response(
                exc.code,
                exc.name.lower().replace(" ", "_"),
                exc.description,
                headers={"Allow": ", ".join(sorted(allowed))} if allowed else None,
            )(environ, start)
        request = Request(environ, shallow=True)
        request.path_values = values
        return provider.handle_request(request)(environ, start)


class AnyPath(PathConverter):
    """`<path:...>` matching any character, a line break too: werkzeug's own stops at one, and
    such a name would get the generic not_found instead of the operation's own 404."""

    regex = "[^/](?s:.*?)"


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def context_data_from_headers(self, request):
        """nameko's, and the W3C headers of the request's span (JsonHttp.handle_request): the
        worker makes it current in its greenthread (tracing.ActiveTrace)."""
        data = super().context_data_from_headers(request)
        carried = getattr(request, "spc_trace", None)
        if carried:
            data[tracing.CONTEXT_KEY] = carried
        return data

    def make_url_map(self):
        url_map = Map(converters={"path": AnyPath})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map


PUBLIC, ANY_ROLE = None, "any"
ROUTE_VALUE = re.compile(r"<(?:[a-z]+:)?(\w+)>")  # /tranches/<tranche_id> -> /tranches/{tranche_id}
FORM = "application/x-www-form-urlencoded"
OPERATIONAL = ("/health/", "/metrics")  # public too, but probes: neither cached nor rate-limited


class JsonHttp(HttpRequestHandler):
    """`@api("POST", "/programmes", role="funding_officer", body=ProgrammeIn, response=ProgrammeOut,
    status=201, errors=(InvalidAmount,), summary=...)` on a method `(self, call, **path_values)`
    that returns the answer's payload (or a werkzeug Response).

    `role`: PUBLIC (no token; a public GET answering JSON, probes aside, is cached and
    rate-limited: shared/web/public_reads.py), ANY_ROLE (any staff token) or a role (or a tuple of roles);
    `body` / `query`: marshmallow schemas the request is loaded with (a body schema with no
    required field makes the body optional: no body is an empty object); `response`: the schema of the success answer
    (documentation: openapi.yaml, checked by the fuzz tests); `media_type`: what a method that
    returns a werkzeug Response answers instead of JSON (openapi.yaml says so); `location`: a format string filled
    from the payload for the `Location` header; `errors`: the domain errors of the service's
    catalogue it may answer, besides those of auth and parsing. An answer with an error not
    declared is still given, and logged and counted as a bug of the declaration
    (`spc_<service>_http_undeclared_errors_total`)."""

    server = JsonWebServer()
    hub = MetricsHub()
    tokens = StaffTokens()
    public = PublicReads()
    traces = tracing.Traces()

    def __init__(
        self,
        method,
        url,
        role=ANY_ROLE,
        body=None,
        query=None,
        response=None,
        summary="",
        status=200,
        errors=(),
        location=None,
        scoped=(),
        media_type=None,
        form=False,
        **kwargs,
    ):
        kwargs.setdefault("expected_exceptions", (DomainError, ValidationError))
        self.role, self.body, self.query, self.summary, self.status = role, body, query, summary, status
        self.response, self.location, self.media_type = response, location, media_type
        self.form = form  # the body may also come as an HTML form (a webhook that posts one)
        self.roles = (role,) if isinstance(role, str) else tuple(role or ())
        self.scoped = tuple(scoped)
        unknown = [r for r in self.scoped if r not in SCOPED_ROLES or SCOPED_ROLES[r] not in url]
        if unknown:
            raise ValueError(f"{url}: scoped roles {unknown} need their id (<{'>, <'.join(SCOPED_ROLES.values())}>) in the path")
        self.errors = tuple(errors)
        super().__init__(method, url, **kwargs)

    @property
    def public_read(self):
        """A public GET answering JSON (not a probe): cached and rate-limited (shared/web/public_reads.py)."""
        return (
            self.role is PUBLIC
            and self.method == "GET"
            and self.media_type in (None, "text/html")
            and not self.url.startswith(OPERATIONAL)
        )

    # -- the request, before the worker ------------------------------------------------------
    def get_entrypoint_parameters(self, request):
        if self.public_read:
            self.public.admit(request)
        correlation = request.headers.get(CORRELATION_HEADER)
        if correlation is not None and not CORRELATION_ID.fullmatch(correlation):
            raise BadCorrelationId(f"{CORRELATION_HEADER} must match {CORRELATION_ID.pattern}")
        request.correlation_id = correlation = correlation or str(uuid.uuid4())
        actor = None
        if self.role is not PUBLIC:
            actor = request.actor = self._authenticate(request)
            try:
                self._authorise(actor, request.path_values)
            except Forbidden as exc:
                self._refused(request, "forbidden", exc, actor)
                raise
        for name, value in request.path_values.items():
            check_text(value, name)
        body = self._body(request) if self.body is not None else None
        idempotency = None
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and self.takes_idempotency_key:
            if not IDEMPOTENCY_KEY.fullmatch(key):
                raise BadIdempotencyKey(f"{IDEMPOTENCY_HEADER} must match {IDEMPOTENCY_KEY.pattern}")
            idempotency = Idempotency(key, fingerprint(request.method, request.path, body))
        query = None
        if self.query is not None:
            args = request.args.to_dict()
            check_text(args, "query")
            query = self.query().load(args)
        return (
            Call(actor, body, query, correlation, idempotency, host=request.host, accept=request.headers.get("Accept", "")[:500]),
        ), request.path_values

    def _authenticate(self, request):
        """The request's actor from its bearer token. Failures are bounded per client
        (SPC_AUTH_FAILURES_PER_MINUTE: past it, 429 with Retry-After), and each refusal is a log
        line and a metric, never with the token (docs/security.md)."""
        try:
            self.public.check_failures(request)
        except RateLimited as exc:
            self._refused(request, "rate_limited", exc)
            raise
        try:
            return self.tokens.auth.authenticate(request.headers.get("Authorization"))
        except ProviderUnavailable as exc:  # not the client's doing: not counted against it
            self._refused(request, "provider_unavailable", exc)
            raise
        except Unauthorized as exc:
            self.public.count_failure(request)
            self._refused(request, "unknown_token" if request.headers.get("Authorization") else "missing_token", exc)
            raise

    def _refused(self, request, reason, exc, actor=None):
        self.hub.metrics.auth_refusals.labels(reason).inc()
        logging.getLogger("spc.auth").warning(
            "refused %s %s: %s",
            request.method,
            self.url,
            reason,
            extra={
                "reason": reason,
                "method": request.method,
                "route": self.url,
                "client": self.public.client(request),
                "service": self.container.service_name,
                "correlation_id": getattr(request, "correlation_id", None),
                "actor": str(actor) if actor is not None else None,
                "detail": exc.message,
            },
        )

    def _authorise(self, actor, path_values):
        """Staff roles: the declared role(s), or any staff role for ANY_ROLE. Scoped roles: only
        where declared (`scoped=`), and only on the ids their label names (the path's
        `counter_id` or `service_id`)."""
        if actor.scoped:
            if actor.role not in self.scoped:
                raise Forbidden(f"a {actor.role} token may not do this", {"allowed_roles": self._allowed()})
            kind = SCOPED_ROLES[actor.role]
            if not actor.may_act_on(kind, path_values.get(kind)):
                raise Forbidden(
                    f"this {actor.role} token may act on {', '.join(sorted(actor.scope))} only", {"scope": sorted(actor.scope)}
                )
        elif self.role != ANY_ROLE and actor.role not in self.roles:
            raise Forbidden(f"role {actor.role!r} may not do this", {"allowed_roles": self._allowed()})

    def _allowed(self):
        staff = list(STAFF_ROLES) if self.role == ANY_ROLE else list(self.roles)
        return staff + [f"{r}/<{SCOPED_ROLES[r]}>" for r in self.scoped]

    @property
    def takes_idempotency_key(self):
        """Staff writes: a retried POST with the same Idempotency-Key is answered as the first."""
        return self.method == "POST" and self.role not in (PUBLIC, ANY_ROLE)

    def _body(self, request):
        length = request.content_length
        chunked = request.headers.get("Transfer-Encoding", "").lower() == "chunked"
        has_body = bool(length) or chunked
        if not has_body:  # as an empty object: the required fields are named in the answer
            return self._load(self.body, {})
        if length is not None and length > self.tokens.max_body:
            raise BodyTooLarge(
                f"the body is {length} bytes; at most {self.tokens.max_body} are accepted", {"max_bytes": self.tokens.max_body}
            )
        # eventlet's server reads a missing Content-Type as text/plain: it is refused like any other
        mimetype = request.mimetype
        if self.form and mimetype == FORM:
            data = request.form.to_dict()
            check_text(data, "body")
            return self._load(self.body, data)
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise NotJson(
                f"send the body with Content-Type: application/json (this request's reads as "
                f"{mimetype or 'none'}; a missing Content-Type reads as text/plain)"
            )
        # werkzeug hides a chunked body (no Content-Length) from request.stream; eventlet's input
        # reads it, in bounded steps
        raw = (request.environ["wsgi.input"] if chunked else request.stream).read(self.tokens.max_body + 1)
        if len(raw) > self.tokens.max_body:
            raise BodyTooLarge(f"the body is larger than {self.tokens.max_body} bytes", {"max_bytes": self.tokens.max_body})
        try:
            data = json.loads(raw.decode(request.mimetype_params.get("charset") or "utf-8") or "null")
        except (ValueError, LookupError) as exc:  # LookupError: a charset Python does not know
            raise InvalidJson("the body is not valid JSON", {"reason": str(exc)[:200]}) from None
        if not isinstance(data, dict):
            raise InvalidJson("the body must be a JSON object")
        check_text(data, "body")
        return self._load(self.body, data)

    @staticmethod
    def _load(schema, data):
        """Load with messages that say what a list or an object holds (shared/core/explain.py)."""
        try:
            return schema().load(data)
        except ValidationError as exc:
            raise ValidationError(explain(schema, exc.messages)) from None

    # -- the answer --------------------------------------------------------------------------
    def handle_request(self, request):
        started = time.monotonic()
        span = self._span_of(request)
        request.spc_trace = tracing.carrier_of(span)
        try:
            response = super().handle_request(request)
            if self.public_read:
                response = self.public.cached(request, response)
        except Exception as exc:
            tracing.end(span, exc)
            raise
        correlation = getattr(request, "correlation_id", None)
        if correlation:
            response.headers[CORRELATION_HEADER] = correlation
        metrics, elapsed = self.hub.metrics, time.monotonic() - started
        metrics.http.labels(request.method, str(response.status_code)).inc()
        metrics.http_seconds.labels(request.method, self.url).observe(elapsed, tracing.exemplar(span) if span else None)
        if span is not None:
            if response.status_code >= 500:
                from opentelemetry.trace import Status, StatusCode

                span.set_status(Status(StatusCode.ERROR))
            tracing.end(
                span,
                http__response__status_code=response.status_code,
                spc__correlation_id=correlation,
                error__type=str(response.status_code) if response.status_code >= 500 else None,
            )
        # one line a request (probes and scrapes answered well: debug). The route, never the path's
        # values, the query, the body or a header (a token): docs/operations.md
        access, status = logging.getLogger("spc.http"), response.status_code
        level = logging.DEBUG if self.role is PUBLIC and status < 400 else logging.INFO
        if access.isEnabledFor(level):
            access.log(
                level,
                "%s %s %s",
                request.method,
                self.url,
                status,
                extra={
                    "correlation_id": correlation,
                    "method": request.method,
                    "route": self.url,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "service": self.container.service_name,
                    "actor": str(request.actor) if getattr(request, "actor", None) else None,
                    **(tracing.ids_fields(span) if span is not None else {}),
                },
            )
        return response

    def _span_of(self, request):
        """The SERVER span of a request (None: traces off, or a probe or a scrape), the child of
        the client's own `traceparent` when it sends one."""
        tracer = self.traces.tracer
        if tracer is None or self.url.startswith(OPERATIONAL):
            return None
        route = ROUTE_VALUE.sub(r"{\1}", self.url)
        return tracing.start_span(
            tracer,
            f"{request.method} {route}",
            "SERVER",
            tracing.carrier(request.headers),
            {
                "http.request.method": request.method,
                "http.route": route,
                "url.path": request.path[:500],
                "url.scheme": request.scheme,
                "server.address": request.host.split(":")[0][:253],
                "spc.role": ",".join(self.roles) or ("public" if self.role is PUBLIC else "staff"),
            },
        )

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        if isinstance(result, Refusal):
            return self.response_from_exception(result.error)
        replayed = isinstance(result, Replay)
        payload = result.answer if replayed else result
        headers = {"Location": self.location.format(**payload)} if self.location else {}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return json_response(payload, result.status if replayed else self.status, headers)

    def response_from_exception(self, exc):
        if isinstance(exc, DomainError):
            if not isinstance(exc, self.answerable_errors()):
                log.error(
                    "%s answered %s (%s), which its @api(errors=...) does not declare",
                    self.method_name,
                    type(exc).__name__,
                    exc.code,
                )
                self.hub.metrics.http_undeclared.labels(type(exc).__name__).inc()
            retry = getattr(exc, "retry_after", None)
            return error_response(
                http_status(type(exc)), exc.code, exc.message, exc.details, {"Retry-After": str(retry)} if retry else None
            )
        if isinstance(exc, ValidationError):
            return error_response(400, "invalid_request", "the request is not valid", {"fields": exc.messages})
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            return error_response(exc.code, "bad_request", exc.description)
        log.error("unhandled error in %s", self.method_name, exc_info=exc)
        return error_response(500, "internal_error", "internal error")

    def answerable_errors(self):
        """Every error class this operation may answer: declared, and those of auth and parsing."""
        implied = () if self.role is PUBLIC else (Unauthorized, BadCorrelationId, Forbidden, RateLimited)
        if self.public_read:
            implied += (RateLimited,)
        if self.body is not None:
            implied += (InvalidJson, BodyTooLarge, NotJson)
        if self.body is not None or self.query is not None or "<" in self.url:
            implied += (BadText,)
        if self.takes_idempotency_key:
            implied += (BadIdempotencyKey, IdempotencyKeyReused, IdempotentRequestInProgress)
        return self.errors + implied


@dataclass(frozen=True)
class Refusal:
    """A domain error a use case raised, handed back as the worker's result: nameko would log a
    traceback for an ordinary 404 or 409 (its "expected error" warning); the answer says it all."""

    error: DomainError


def api(*args, **kwargs):
    """Declare an admin operation (see JsonHttp). The method runs with its refusals handed back
    as results, through the staff edge (shared/web/edge.answer): a POST carrying an Idempotency-Key is
    done at most once per key and token, a retry (or a copy sent at the same moment) getting the
    first answer."""
    status = kwargs.get("status", 200)

    def decorate(method):
        @functools.wraps(method)
        def run(self, call, *a, **kw):
            try:
                return edge.answer(call, functools.partial(method, self, call, *a, **kw), status, lambda: self.store.uow())
            except DomainError as exc:
                return Refusal(exc)

        return JsonHttp.decorator(*args, **kwargs)(run)

    return decorate
