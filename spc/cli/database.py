"""Opening a service's database for a CLI command, with failures in one line that names the
database (its password masked)."""

from pathlib import Path

import sqlalchemy.exc
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from spc.shared.sql.persistence import make_engine

from .errors import CliError, database_reason, mask_url


def _sqlite_file(url):
    """The file of a SQLite URL (None for another database, or an in-memory one)."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def has_schema(engine, service):
    """Whether SPC ever migrated this database for `service` (its alembic version table)."""
    return inspect(engine).has_table(f"alembic_version_{service}")


def open_database(settings, service, url, must_exist=False):
    """`service`'s ServiceDatabase at `url`, migrated; CliError when it cannot be reached, or
    (`must_exist`) when it is absent or has no schema: nothing is created then."""
    where = mask_url(url)
    path = _sqlite_file(url)
    if must_exist and path is not None and not path.is_file():
        raise CliError(
            f"{service}'s database does not exist: no file {path} (has {service} run "
            f"here? set SPC_DATA_DIR or {service.upper()}_DATABASE_URL)"
        )
    try:
        if must_exist:
            engine = make_engine(url)
            try:
                if not has_schema(engine, service):
                    raise CliError(
                        f"{service}'s database at {where} has no schema yet ({service} "
                        f"has never run against it, or it is another database)"
                    )
            finally:
                engine.dispose()
        return settings.open_database(service, url=url)
    except sqlalchemy.exc.DBAPIError as exc:
        raise CliError(f"cannot use {service}'s database at {where}: {database_reason(exc)}") from None
    except sqlalchemy.exc.ArgumentError as exc:
        raise CliError(f"{service.upper()}_DATABASE_URL: {exc}") from None
    except ImportError as exc:  # a URL naming a driver that is not installed
        raise CliError(f"cannot use {service}'s database at {where}: {exc}") from None
