"""OpenTelemetry traces: one trace from a staff request or an inbound event to the last service it
moves, carried in W3C `traceparent` / `tracestate` headers (docs/operations.md, "Traces").

- An admin HTTP request is a SERVER span (`POST /tranches/{tranche_id}/release`), the child of the
  client's own `traceparent` when it sends one.
- A message a consumer takes is a CONSUMER span (`process audit.compliance`), the child of the
  context in the message's headers: a redelivered message makes a new span in the same trace, a
  message without headers starts a trace. A batch is one span, the child of its first message,
  linked to the others.
- An event written to the outbox keeps the context of the span that wrote it (its row's
  `traceparent` and `tracestate`), and the relay publishes it, whenever that is, in a PRODUCER
  span (`send spc.events`), the child of that context, whose own context goes in the message's
  headers: the outbox does not break the trace.
- Each SQL statement is a CLIENT span under whatever span is current (`sql_spans`).

Export is over OTLP/HTTP (protobuf) whenever OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, sampled as the standard OTEL_TRACES_SAMPLER and
OTEL_TRACES_SAMPLER_ARG say, batched as OTEL_BSP_* say. Unset (or OTEL_SDK_DISABLED=true, or
OTEL_TRACES_EXPORTER=none), nothing is made at all: every function here returns at once (bench/
measures both). Each SPC service has its own provider, named `spc-<service>`: `spc up` runs the
four in one process and each span still says which one made it."""

import logging
import os
import threading
from contextlib import contextmanager
from typing import Any

from nameko.extensions import DependencyProvider, SharedExtension

log = logging.getLogger(__name__)

HEADERS = ("traceparent", "tracestate")
PROTOCOLS = ("http/protobuf", "")  # OTLP/gRPC would need grpcio: not installed, said at start


class TracingSettingError(ValueError):
    pass


def wanted(environ):
    """Whether the OTEL_* settings ask for traces (an endpoint, not disabled)."""
    if (environ.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return False
    exporters = (environ.get("OTEL_TRACES_EXPORTER") or "otlp").strip().lower()
    if exporters == "none":
        return False
    return bool(_endpoint(environ))


def _endpoint(environ):
    traces = (environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or "").strip()
    if traces:
        return traces
    base = (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").strip()
    return f"{base.rstrip('/')}/v1/traces" if base else ""


def check_settings(environ):
    """The OTEL_* settings SPC can honour, else TracingSettingError saying why (spc.runtime.config)."""
    if not wanted(environ):
        return
    protocol = (
        (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "").strip().lower()
    )
    if protocol not in PROTOCOLS:
        raise TracingSettingError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: SPC exports OTLP over HTTP "
            "(http/protobuf, port 4318 of a collector); gRPC is not installed"
        )
    exporters = {e.strip() for e in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").lower().split(",")}
    if exporters - {"otlp"}:
        raise TracingSettingError(
            f"OTEL_TRACES_EXPORTER={environ.get('OTEL_TRACES_EXPORTER')!r}: SPC exports over OTLP only (otlp, or none)"
        )
    endpoint = _endpoint(environ)
    if not endpoint.startswith(("http://", "https://")):
        raise TracingSettingError(
            f"the OTLP endpoint {endpoint!r} must be an http:// or https:// URL "
            "(a collector's OTLP/HTTP receiver, e.g. http://otel-collector:4318)"
        )


_PROVIDERS: dict[tuple[str, object], Any] = {}  # (service, endpoint or exporter's id): its TracerProvider
_LOCK = threading.Lock()


def tracer_for(service, environ=None, exporter=None):
    """The tracer of `service` (`spc-<service>`), None when traces are off. One provider per service
    and process, made on first use. `exporter`: a SpanExporter instead of OTLP (tests)."""
    environ = os.environ if environ is None else environ
    if exporter is None and not wanted(environ):
        return None
    key = (service, _endpoint(environ) if exporter is None else id(exporter))
    with _LOCK:
        found = _PROVIDERS.get(key)
        if found is None:  # kept for the process's life: replicas of a service in one process share it
            found = _PROVIDERS[key] = _provider(service, environ, exporter)
    return found.get_tracer("spc")


def _provider(service, environ, exporter):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        check_settings(environ)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=_endpoint(environ))
        log.info("traces of %s exported over OTLP to %s", service, _endpoint(environ))
    provider = TracerProvider(resource=Resource.create({"service.name": f"spc-{service}", "service.namespace": "spc"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def flush(service=None, timeout_millis=5000):
    """Send what is buffered (a process about to stop, a test about to look)."""
    for (name, _), provider in list(_PROVIDERS.items()):
        if service is None or name == service:
            provider.force_flush(timeout_millis)


# -- contexts in headers --------------------------------------------------------------------------
def carrier(headers):
    """The W3C trace headers found in `headers` (a message's or a request's), as strings."""
    if not headers:
        return {}
    found = {}
    for name in HEADERS:
        value = headers.get(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str) and value:
            found[name] = value[:512]
    return found


def context_of(carried):
    """The OpenTelemetry context a carrier names (an empty one when it names none: a new trace)."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(carried or {})


def carrier_of(span):
    """`span`'s context as W3C headers ({} for none)."""
    if span is None or not span.get_span_context().is_valid:
        return {}
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    found = {}
    TraceContextTextMapPropagator().inject(found, context=trace.set_span_in_context(span))
    return found


def current_carrier():
    """The current span's context as W3C headers ({} when there is none, or traces are off)."""
    if not _PROVIDERS:
        return {}
    from opentelemetry import trace

    return carrier_of(trace.get_current_span())


def current_ids():
    """(trace_id, span_id) of the current span, in hex, or None (for log lines and exemplars)."""
    if not _PROVIDERS:
        return None
    from opentelemetry import trace

    return ids_of(trace.get_current_span())


def ids_of(span):
    if span is None:
        return None
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def ids_fields(span=None):
    """{"trace_id", "span_id"} of `span` (else the current one), {} without one: a log line's
    fields and a Prometheus exemplar's labels."""
    found = ids_of(span) if span is not None else current_ids()
    return {"trace_id": found[0], "span_id": found[1]} if found else {}


def exemplar(span=None):
    """A Prometheus exemplar naming the trace (of `span`, else the current one), or None."""
    return ids_fields(span) or None


@contextmanager
def attached(carried):
    """Make the span `carried` names (W3C headers) the current one here: a nameko worker's
    greenthread, where the entrypoint's span was started in another (shared/service/providers.py)."""
    if not carried or not _PROVIDERS:
        yield
        return
    from opentelemetry import context

    token = context.attach(context_of(carried))
    try:
        yield
    finally:
        context.detach(token)


def links_to(carriers):
    """Links to the span contexts the carriers name (a batch's other messages)."""
    from opentelemetry import trace

    links = []
    for carried in carriers:
        span_context = trace.get_current_span(context_of(carried)).get_span_context()
        if span_context.is_valid:
            links.append(trace.Link(span_context))
    return links


def end(span, error=None, **attributes):
    """Set `attributes` (None values left out), the error if any, and end the span."""
    if span is None:
        return
    for key, value in attributes.items():
        if value is not None:
            span.set_attribute(key.replace("__", "."), value)
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:200]))
    span.end()


# -- SQL statements -------------------------------------------------------------------------------
def sql_spans(engine, tracer):
    """A CLIENT span for each statement `engine` sends, under the current span (none outside
    one: a periodic task's statements are not traced). The statement's text only, never its
    parameters (they may hold personal data)."""
    if tracer is None:
        return
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind
    from sqlalchemy import event

    from .metrics import statement_kind

    system = {"postgresql": "postgresql", "sqlite": "sqlite"}.get(engine.dialect.name, engine.dialect.name)
    common = {"db.system.name": system, "db.system": system}
    if engine.url.database:
        common["db.namespace"] = os.path.basename(engine.url.database) if system == "sqlite" else engine.url.database
    if engine.url.host:
        common.update({"server.address": engine.url.host, "server.port": engine.url.port or 5432})

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        if context is None or not trace.get_current_span().get_span_context().is_valid:
            return
        kind = statement_kind(statement)
        span = tracer.start_span(
            kind,
            kind=SpanKind.CLIENT,
            attributes={**common, "db.operation.name": kind.split()[0].upper(), "db.query.text": statement[:2000]},
        )
        context._spc_span = span

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        span = getattr(context, "_spc_span", None)
        if span is not None:
            context._spc_span = None
            if cursor.rowcount is not None and cursor.rowcount >= 0:
                span.set_attribute("db.response.returned_rows", cursor.rowcount)
            span.end()

    @event.listens_for(engine, "handle_error")
    def _failed(exception_context):
        context = exception_context.execution_context
        span = getattr(context, "_spc_span", None) if context is not None else None
        if span is not None:
            context._spc_span = None
            end(span, exception_context.original_exception)


# -- the messaging and HTTP attributes (OpenTelemetry's semantic conventions) ----------------------
def start_span(tracer, name, kind, parent=None, attributes=None, links=None):
    """A span started (not made current) under the context `parent` (W3C headers; none: a new
    trace). None when `tracer` is None (traces off)."""
    if tracer is None:
        return None
    from opentelemetry.trace import SpanKind

    return tracer.start_span(
        name,
        context=context_of(parent),
        kind=getattr(SpanKind, kind),
        attributes={k: v for k, v in (attributes or {}).items() if v is not None},
        links=links or None,
    )


def publish_attributes(exchange, routing_key, event_id, event_type):
    return {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": exchange,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "messaging.message.id": event_id,
        "spc.event_type": event_type,
    }


def process_attributes(queue, exchange, routing_key, events):
    first = events[0]
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": exchange,
        "messaging.destination.subscription.name": queue,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "spc.event_type": first.event_type,
    }
    if len(events) > 1:
        attributes["messaging.batch.message_count"] = len(events)
    else:
        attributes["messaging.message.id"] = str(first.event_id)
        if first.correlation_id:
            attributes["messaging.message.conversation_id"] = first.correlation_id
        service_id = (first.payload or {}).get("service_id") if isinstance(first.payload, dict) else None
        if service_id:
            attributes["spc.service_id"] = str(service_id)
    return attributes


# -- nameko: the tracer of a service container, and the span current in its workers --------------
CONTEXT_KEY = "spc.trace"  # a worker's context_data: the W3C headers of its entrypoint's span


class Traces(SharedExtension):
    """The container's tracer (None when traces are off), shared by its entrypoints and providers."""

    def setup(self):
        self.tracer = tracer_for(self.container.service_name, self.container.config.get("ENV", os.environ))

    def stop(self):
        if self.tracer is not None:
            flush(self.container.service_name)


class ActiveTrace(DependencyProvider):
    """Makes the span its entrypoint started (`context_data["spc.trace"]`) the current one in the
    worker's greenthread, for the worker's statements, log lines and the outbox rows it writes."""

    traces = Traces()

    def worker_setup(self, worker_ctx):
        carried = (worker_ctx.context_data or {}).get(CONTEXT_KEY)
        if carried and _PROVIDERS:
            from opentelemetry import context

            worker_ctx._spc_trace_token = context.attach(context_of(carried))

    def worker_teardown(self, worker_ctx):
        token = getattr(worker_ctx, "_spc_trace_token", None)
        if token is not None:
            from opentelemetry import context

            worker_ctx._spc_trace_token = None
            context.detach(token)

    def get_dependency(self, worker_ctx):
        return self.traces.tracer
