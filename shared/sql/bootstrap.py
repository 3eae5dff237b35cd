"""One bootstrap per service: what it takes to run it, in one small spec, the `spec` of its
nameko class (services/<name>/service.py). The nameko database provider, `spc run/up/demo/
migrate`, the CLI commands that open a service's database and the tests all start a service
from its spec, so engine, lock, migrations and unit of work are put together in this one place.
`spc/runtime/fleet.py` lists the services."""

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import text

from .migrations import pending, upgrade
from .persistence import make_engine, transaction_lock


class SchemaNotReady(RuntimeError):
    """SPC_MIGRATE=false and the database is not at the latest schema yet."""


class DatabaseNotUtf8(RuntimeError):
    """The database's encoding is not UTF-8: every French text would fail in it."""


def check_encoding(engine, service):
    """DatabaseNotUtf8 unless `engine`'s database stores UTF-8 (SQLite always does)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        encoding = conn.execute(text("SHOW server_encoding")).scalar()
    if encoding.upper().replace("-", "") != "UTF8":
        raise DatabaseNotUtf8(
            f"{service}: the database {engine.url.database!r} is {encoding}, not UTF-8: texts such as "
            f"'Crèche' cannot be stored in it; create it with ENCODING 'UTF8' TEMPLATE template0 "
            f"(deploy/postgres/init-databases.sh does)"
        )


# each service's HTTP port unless `<NAME>_PORT` says otherwise (contract §5); read here by the
# services' specs and by the public pages that link to another service (shared/web/pages.py)
DEFAULT_PORTS = {"registry": 8001, "funding": 8002, "distribution": 8003, "audit": 8004}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int  # default HTTP port (`<NAME>_PORT` overrides it)
    unit_of_work: type  # the service's SQLAlchemy unit of work
    migrations: Path  # its alembic folder
    standings: Callable  # its read model behind GET /standings: (uow, after, limit) -> [dict]
    holdings: Callable  # what it holds now, for its metrics: (uow) -> {(kind, status): number}
    consumers: tuple = ()  # the queues it consumes, each declared once (shared/core/dispatch.Consumes)

    def migrate(self, engine):
        """Bring the database to the latest schema (safe to run twice, and from several replicas)."""
        upgrade(engine, self.name, self.migrations)

    def open(self, url, migrate=True):
        """The service's database at `url`, migrated first unless told not to."""
        return ServiceDatabase(self, make_engine(url), migrate)


class ServiceDatabase:
    """A service's database as its use cases need it: `uow()` gives a fresh unit of work."""

    def __init__(self, spec, engine, migrate=True, on_commit=None):
        self.spec, self.engine, self.on_commit = spec, engine, on_commit
        self.lock = transaction_lock(engine)
        check_encoding(engine, spec.name)
        if migrate:
            spec.migrate(engine)
        else:
            missing = pending(engine, spec.name, spec.migrations)
            if missing:  # refuse to start: its messages would fail until the schema is there
                raise SchemaNotReady(
                    f"{spec.name}: the database lacks migrations {missing}; "
                    f"run `spc migrate {spec.name}` (or wait for the migration step)"
                )

    def uow(self, urgent=False):
        return self.spec.unit_of_work(self.engine, self.spec.name, self.lock, self.on_commit, urgent)

    def close(self):
        self.engine.dispose()
