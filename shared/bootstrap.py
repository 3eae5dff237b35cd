"""One bootstrap per service: what it takes to run it, in one small spec, the `spec` of its
nameko class (services/<name>/service.py). The nameko database provider, `spc run/up/demo/
migrate`, the CLI commands that open a service's database and the tests all start a service
from its spec, so engine, lock, migrations and unit of work are put together in this one place.
`spc/fleet.py` lists the services."""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .migrations import pending, upgrade
from .persistence import make_engine, transaction_lock


class SchemaNotReady(RuntimeError):
    """SPC_MIGRATE=false and the database is not at the latest schema yet."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int              # default HTTP port (`<NAME>_PORT` overrides it)
    unit_of_work: type     # the service's SQLAlchemy unit of work
    migrations: Path       # its alembic folder
    standings: Callable    # its read model behind GET /standings: (uow, after, limit) -> [dict]
    holdings: Callable     # what it holds now, for its metrics: (uow) -> {(kind, status): number}

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
        if migrate:
            spec.migrate(engine)
        else:
            missing = pending(engine, spec.name, spec.migrations)
            if missing:  # refuse to start: its messages would fail until the schema is there
                raise SchemaNotReady(f"{spec.name}: the database lacks migrations {missing}; "
                                     f"run `spc migrate {spec.name}` (or wait for the migration step)")

    def uow(self, urgent=False):
        return self.spec.unit_of_work(self.engine, self.spec.name, self.lock, self.on_commit, urgent)

    def close(self):
        self.engine.dispose()
