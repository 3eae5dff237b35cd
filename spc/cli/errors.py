"""What the command line says when it cannot do its job: one line on stderr and exit code 2,
never a traceback or a library's log (a traceback stays for real bugs, and for everything when
SPC_DEBUG=1 or `spc -v`)."""

import os
from urllib.parse import urlsplit, urlunsplit

EXIT_FAILED = 2  # the command could not run (1 is kept for "it ran and found a problem")


class CliError(Exception):
    """An expected failure, already worded for the operator (never a password in it)."""


class BrokerError(Exception):
    """The broker cannot be reached, refuses the login, or refuses what is asked: one line, the
    URI's password masked (the broker tools: operations.py)."""


def debug_asked(environ=os.environ, verbose=False):
    """SPC_DEBUG=1, SPC_LOG_LEVEL=DEBUG or `spc -v`: show library logs and tracebacks."""
    return (
        verbose
        or environ.get("SPC_DEBUG", "").lower() not in ("", "0", "false", "no")
        or environ.get("SPC_LOG_LEVEL", "").upper() == "DEBUG"
    )


def mask_url(url):
    """A URL (SQLAlchemy or AMQP, or a `;`-separated failover list) with its password as ***."""
    if url is None:
        return None
    return ";".join(_mask_one(part.strip()) for part in str(url).split(";") if part.strip())


def _mask_one(url):
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user, _, host = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))
    except ValueError:  # not parseable: show nothing of what follows the scheme's credentials
        head, sep, tail = url.rpartition("@")
        return f"{head.partition('://')[0]}://***@{tail}" if sep else url


def database_reason(exc):
    """The driver's own words for a database error, on one line (pg8000 gives a dict)."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], dict) and "M" in args[0]:
        return args[0]["M"]
    text = str(args[0] if args else orig) or type(orig).__name__
    return text.strip().splitlines()[0]


def describe(exc):
    """The one line for an expected failure, or None for a bug (which keeps its traceback)."""
    import sqlalchemy.exc

    from spc.runtime.config import ConfigError
    from spc.shared.sql.bootstrap import DatabaseNotUtf8, SchemaNotReady

    if isinstance(exc, (CliError, ConfigError, BrokerError, SchemaNotReady, DatabaseNotUtf8)):
        return str(exc)
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return f"database error: {database_reason(exc)}"
    try:
        import pika.exceptions

        if isinstance(exc, (pika.exceptions.ChannelClosedByBroker, pika.exceptions.ConnectionClosedByBroker)):
            return f"the broker refused: {exc.reply_code} {exc.reply_text}"
        if isinstance(exc, pika.exceptions.AMQPError):
            return f"broker error: {type(exc).__name__} {exc}".strip().splitlines()[0]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{(exc.strerror or str(exc)).lower()}"
    return None
