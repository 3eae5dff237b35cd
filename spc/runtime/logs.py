"""Where the log records go, and in what shape: plain text for a terminal (the default), or one JSON
object per line for a log collector (`SPC_LOG_FORMAT=json`: compose and the Kubernetes manifests
set it). docs/operations.md shows the lines and how to follow one request by its correlation id."""

import json
import logging
import sys
from datetime import datetime, timezone

from spc.shared.observe import tracing

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# what every LogRecord has: anything else on a record came from `extra=` and is a field of its own
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class BadLogFormat(ValueError):
    pass


def log_format(environ):
    """`SPC_LOG_FORMAT` (text or json; unset or empty: text)."""
    value = (environ.get("SPC_LOG_FORMAT") or "text").strip().lower()
    if value not in FORMATS:
        raise BadLogFormat(f"SPC_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    return value


def _service_of(logger_name):
    """`spc.services.audit.handlers` -> audit: a service's own modules name it."""
    if logger_name.startswith("spc.services."):
        return logger_name.split(".")[2] or None
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: `ts` (ISO 8601, UTC, milliseconds), `level`,
    `logger`, `service` (from `extra=` or the logger's name, when known), `message`, then every
    field passed with `extra=`, then `trace_id` and `span_id` (traces on, in a traced worker or
    request), then `exc_info` / `stack_info` (as text) when there are any.
    A value JSON cannot hold is written as its str()."""

    def format(self, record):
        doc = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
        }
        service = getattr(record, "service", None) or _service_of(record.name)
        if service:
            doc["service"] = service
        doc["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in doc and not key.startswith("_"):
                doc[key] = value
        if "trace_id" not in doc:  # written in a traced worker: its span (shared/observe/tracing.py)
            traced = tracing.current_ids()
            if traced:
                doc["trace_id"], doc["span_id"] = traced
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc_info"] = record.exc_text
        if record.stack_info:
            doc["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def handler(fmt, stream=None):
    """A handler writing to `stream` (stderr by default) in `fmt` (text or json)."""
    made = logging.StreamHandler(stream if stream is not None else sys.stderr)
    made.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return made


def configure(level, fmt="text"):
    """The root logger's level and its one handler on stderr (as logging.basicConfig: nothing
    changes if the root logger has a handler already)."""
    logging.basicConfig(level=level, handlers=[handler(fmt)])
