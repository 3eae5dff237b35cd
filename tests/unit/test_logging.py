"""SPC_LOG_FORMAT=json: one JSON object per record, on one line (spc/runtime/logs.py)."""

import io
import json
import logging

import pytest
from click.testing import CliRunner

from spc.runtime.logs import BadLogFormat, JsonFormatter, handler, log_format


def record(name="spc.http", level=logging.INFO, msg="%s %s %s", args=("POST", "/programmes", 201), exc_info=None, **extra):
    made = logging.getLogger(name).makeRecord(name, level, "http.py", 1, msg, args, exc_info, extra=extra)
    made.created = 1764061200.25  # 2025-11-25T09:00:00.250Z
    return made


def test_a_record_is_one_json_object_with_its_fields():
    line = JsonFormatter().format(
        record(correlation_id="c-1", route="/programmes", status=201, duration_ms=12.5, service="funding")
    )
    assert "\n" not in line
    doc = json.loads(line)
    assert list(doc)[:5] == ["ts", "level", "logger", "service", "message"]
    assert doc == {
        "ts": "2025-11-25T09:00:00.250Z",
        "level": "INFO",
        "logger": "spc.http",
        "service": "funding",
        "message": "POST /programmes 201",
        "correlation_id": "c-1",
        "route": "/programmes",
        "status": 201,
        "duration_ms": 12.5,
    }


def test_the_service_comes_from_the_logger_of_a_service_module_and_is_absent_elsewhere():
    assert json.loads(JsonFormatter().format(record("spc.services.audit.handlers")))["service"] == "audit"
    assert "service" not in json.loads(JsonFormatter().format(record("nameko.containers")))


def test_a_traceback_and_odd_values_stay_on_the_one_line():
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        made = record(level=logging.ERROR, msg="failed: %s", args=("é\n",), exc_info=sys.exc_info(), when=object(), ids={1, 2})
    line = JsonFormatter().format(made)
    assert "\n" not in line
    doc = json.loads(line)
    assert doc["level"] == "ERROR" and doc["message"] == "failed: é\n"
    assert "ValueError: boom" in doc["exc_info"] and doc["exc_info"].startswith("Traceback")
    assert doc["when"].startswith("<object object") and doc["ids"] in ("{1, 2}", "{2, 1}")


def test_a_handler_writes_json_or_text():
    for fmt, check in (
        ("json", lambda out: json.loads(out)["message"] == "hello 1"),
        ("text", lambda out: out.rstrip().endswith("INFO spc.test: hello 1")),
    ):
        out = io.StringIO()
        logger = logging.getLogger(f"spc.test.{fmt}")
        logger.propagate, logger.level = False, logging.INFO
        logger.addHandler(handler(fmt, out))
        logging.getLogger(f"spc.test.{fmt}").info("hello %d", 1)
        assert check(out.getvalue().replace(f"spc.test.{fmt}", "spc.test")), out.getvalue()


def test_the_format_setting():
    assert log_format({}) == "text" and log_format({"SPC_LOG_FORMAT": ""}) == "text"
    assert log_format({"SPC_LOG_FORMAT": " JSON "}) == "json"
    with pytest.raises(BadLogFormat, match="text, json"):
        log_format({"SPC_LOG_FORMAT": "xml"})


def test_a_bad_format_stops_the_cli_in_one_line():
    from spc.cli.commands import cli

    result = CliRunner().invoke(cli, ["openapi"], env={"SPC_LOG_FORMAT": "logfmt"}, prog_name="spc")
    assert result.exit_code == 2
    assert result.output.strip() == "spc: SPC_LOG_FORMAT must be one of text, json, not 'logfmt'"
