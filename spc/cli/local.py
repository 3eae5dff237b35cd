"""What `spc up` makes ready on a developer's machine, so that SPC can be used at once: staff
tokens of its own (embedded mode only, when none are configured) and the France Services
counters bundled with SPC (when distribution has none). Production modes configure both."""

import os
import secrets
from pathlib import Path

from spc.shared.web.auth import STAFF_ROLES, parse_tokens

from .errors import CliError

TOKENS_FILE = "admin-tokens"  # under SPC_DATA_DIR
LABEL = "local"
COUNTERS = Path(__file__).parent.parent / "data" / "france-services-2024-08-01.csv"


def data_dir(environ):
    return Path(environ.get("SPC_DATA_DIR", "var"))


def tokens_configured(environ):
    return bool(environ.get("SPC_ADMIN_TOKENS") or environ.get("SPC_ADMIN_TOKENS_FILE"))


def ensure_local_tokens(environ):
    """The local tokens file, `<SPC_DATA_DIR>/admin-tokens`, made the first time with a fresh
    random token for each staff role (readable by its owner only), kept after. Returns (path,
    made now)."""
    path = data_dir(environ) / TOKENS_FILE
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Staff tokens made by `spc up` for this machine only (one per role; `spc token ROLE`",
        "# prints one). Lines are role/label:token; add or remove lines while SPC runs.",
    ]
    lines += [f"{role}/{LABEL}:{secrets.token_hex(20)}" for role in STAFF_ROLES]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path, True


def token_for(environ, role):
    """The token of `role` in the tokens file SPC reads (SPC_ADMIN_TOKENS_FILE, else the local
    file `spc up` made)."""
    path = Path(environ.get("SPC_ADMIN_TOKENS_FILE") or data_dir(environ) / TOKENS_FILE)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        where = "SPC_ADMIN_TOKENS_FILE" if environ.get("SPC_ADMIN_TOKENS_FILE") else "SPC_DATA_DIR"
        raise CliError(
            f"no tokens file at {path} ({where}): `spc up` makes one the first time it "
            f"runs embedded ({exc.strerror.lower() if exc.strerror else exc})"
        ) from None
    try:
        parse_tokens(lines)
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from None
    for line in lines:
        head, _, secret = line.strip().partition(":")
        if not line.lstrip().startswith("#") and head.partition("/")[0] == role and not secret.startswith("sha256:"):
            return secret
    raise CliError(f"{path} has no plain token for the role {role!r} (a sha256: entry cannot be shown)")


def load_bundled_counters(settings):
    """Import the bundled France Services counters when distribution has none; how many (0: it
    had some already, nothing done)."""
    from spc.services.distribution import handlers

    from .demo import import_counters_into

    database = settings.open_database("distribution")
    try:
        present = handlers.search_counters(database.uow(), include_closed=True, limit=1)["total"]
    finally:
        database.close()
    if present:
        return 0
    return import_counters_into(settings, COUNTERS, quiet=True)  # spc up says it in its own line
