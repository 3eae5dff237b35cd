"""Traces' settings and the W3C headers (shared/observe/tracing.py): the standard OTEL_* variables decide,
what SPC cannot honour is refused at start with the reason, and with no endpoint nothing is made."""

import pytest

from spc.runtime import config
from spc.shared.observe import tracing


@pytest.mark.parametrize(
    "environ, wanted",
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
    ],
)
def test_the_otel_variables_decide_whether_traces_are_made(environ, wanted):
    assert tracing.wanted(environ) is wanted


def test_the_traces_endpoint_is_the_base_one_with_v1_traces_unless_set_itself():
    assert tracing._endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    assert (
        tracing._endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t/x"})
        == "https://t/x"
    )


@pytest.mark.parametrize(
    "extra, says",
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "gRPC is not installed"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "http/protobuf"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "over OTLP only"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "must be an http:// or https:// URL"),
    ],
)
def test_what_spc_cannot_honour_is_refused_at_start_with_the_reason(extra, says):
    environ = {"AMQP_URI": "memory://", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", **extra}
    with pytest.raises(config.ConfigError, match=says):
        config.load(environ).service_config("audit")


def test_a_honoured_setting_reaches_the_services():
    assert (
        config.load(
            {
                "AMQP_URI": "memory://",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            }
        ).service_config("audit")["TRACES"]
        is True
    )
    assert config.load({"AMQP_URI": "memory://"}).service_config("audit")["TRACES"] is False


def test_with_traces_off_no_tracer_is_made():
    assert tracing.tracer_for("audit", {}) is None


@pytest.mark.parametrize(
    "headers, carried",
    [
        (None, {}),
        ({}, {}),
        (
            {"traceparent": b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        ),
        ({"traceparent": "x" * 600, "tracestate": "a=1", "other": "y"}, {"traceparent": "x" * 512, "tracestate": "a=1"}),
        ({"traceparent": 7}, {}),
    ],
)
def test_the_w3c_headers_are_read_as_strings_bounded_and_nothing_else(headers, carried):
    assert tracing.carrier(headers) == carried


def test_a_malformed_traceparent_starts_a_new_trace():
    from opentelemetry import trace

    for bad in (
        "",
        "00-xyz",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    ):
        assert not trace.get_current_span(tracing.context_of({"traceparent": bad})).get_span_context().is_valid
