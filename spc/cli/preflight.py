"""Checks `spc up` and `spc run` make before starting any service, so that a wrong setting is one
line on stderr (exit 2) rather than a container dying in a page of tracebacks."""

import errno
import os
import socket

from spc.shared.web.auth import parse_tokens

from .errors import CliError

NO_TOKENS = "WARNING: no admin token configured (SPC_ADMIN_TOKENS / SPC_ADMIN_TOKENS_FILE): every staff endpoint will answer 401"


def _check_entries(lines, where):
    """Count the credentials in `lines`; CliError naming the entry (never its secret) if one is bad."""
    count = 0
    for number, line in enumerate(lines, 1):
        try:
            creds = parse_tokens([line])
        except ValueError as exc:
            raise CliError(f"{where(number)}: {exc}") from None
        for cred in creds:
            if len(cred.digest) != 32:
                raise CliError(f"{where(number)}: a sha256: token needs 64 hexadecimal digits")
        count += len(creds)
    return count


def check_admin_tokens(environ):
    """None when staff tokens are configured and all readable; the warning to print when none is
    (the services still start: their health and metrics need no token); CliError on a malformed
    entry or an unreadable file."""
    count = _check_entries(environ.get("SPC_ADMIN_TOKENS", "").split(","), lambda n: f"SPC_ADMIN_TOKENS entry {n}")
    path = environ.get("SPC_ADMIN_TOKENS_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise CliError(f"SPC_ADMIN_TOKENS_FILE: cannot read {path}: {reason}") from None
        count += _check_entries(lines, lambda n: f"SPC_ADMIN_TOKENS_FILE {path} line {n}")
    from spc.shared.web.oidc import OidcConfigError, OidcVerifier

    try:
        oidc = OidcVerifier.from_environ(environ)
    except OidcConfigError as exc:
        raise CliError(str(exc)) from None
    return None if count or oidc else NO_TOKENS


class ListenError(CliError):
    """A service's HTTP port cannot be listened on."""

    def __init__(self, service, host, port, reason):
        self.service, self.host, self.port = service, host, port
        super().__init__(f"{service} cannot listen on {host}:{port} ({service.upper()}_PORT): {reason}")


def _reason(exc):
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no such address on this machine (SPC_BIND)"
    return (exc.strerror or os.strerror(exc.errno or 0) or str(exc)).lower()


def check_ports(settings, names):
    """Bind each service's address as nameko will (SO_REUSEADDR), then let go; ListenError for the
    first that cannot be had, or two services given the same port."""
    host, seen = settings.bind, {}
    for name in dict.fromkeys(names):
        port = settings.port(name)
        if port in seen:
            raise ListenError(name, host, port, f"{seen[port]} is given the same port ({seen[port].upper()}_PORT)")
        seen[port] = name
        if port == 0:
            continue
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ListenError(name, host, port, f"unknown address (SPC_BIND): {exc.strerror}") from None
        family, _, _, _, address = infos[0]
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise ListenError(name, host, port, _reason(exc)) from None


def listen_error(exc, settings, name):
    """The ListenError for an OSError raised while `name` started, if it is its port's bind."""
    for error in (exc, exc.__cause__, exc.__context__):
        if isinstance(error, OSError) and error.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            return ListenError(name, settings.bind, settings.port(name), _reason(error))
    return None


def check_database_encodings(settings, names):
    """DatabaseNotUtf8 (one line) for the first service whose PostgreSQL database is not UTF-8. A
    database not reachable yet is left to the service, which waits for it."""
    import sqlalchemy.exc

    from spc.shared.sql.bootstrap import check_encoding
    from spc.shared.sql.persistence import make_engine

    for name in dict.fromkeys(names):
        url = settings.database_url(name, create_dir=False)
        if not url.startswith("postgresql"):
            continue
        engine = make_engine(url)
        try:
            check_encoding(engine, name)
        except sqlalchemy.exc.DBAPIError:
            pass
        finally:
            engine.dispose()
