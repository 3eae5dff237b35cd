"""National scale: the admin reads and a counter's move with 100,000 services, the 2,845 France
Services counters and their listings in the databases (issue 19, item 6).

The data is made by SPC's own code, in-process, on fresh PostgreSQL databases: registry
registers and approves the services (its domain and repository, 500 per transaction: the
`registry.service_approved` events land in its outbox), distribution imports the bundled
counters and applies those events as its consumer does (`apply_batch` with its handler: the
listings). Their territories are drawn as a country's would be: 80 % one commune (a counter's),
19.9 % a département, 0.1 % the whole country.

Then registry and distribution run as `spc run` processes and a load loop asks `GET
/services?department=` and `GET /counters/{id}/catalogue` at a steady rate (p50/p99 of each), and
a counter moving into the département with the most listings is timed as distribution applies it
(`upsert_counter` in its transaction, as the consumer runs it)."""

import random
import statistics
import threading
import time
import uuid
from datetime import date

from sqlalchemy import func, select, update

from spc.runtime.fleet import spec
from spc.services.distribution import anct_csv
from spc.services.distribution import handlers as distribution
from spc.services.distribution import orm as distribution_orm
from spc.services.registry import orm as registry_orm
from spc.services.registry.domain.model import CitizenService
from spc.services.registry.domain.pact import Pact
from spc.services.registry.exceptions import InvalidPact
from spc.shared.core import envelope
from spc.shared.core.clock import utcnow
from spc.shared.messaging.consumer import apply_batch
from spc.cli.local import COUNTERS

from .harness import databases, percentile, vhost

BATCH = 500


def territory(rng, counters):
    """(territories, a fallback): a counter's commune may be one the geography has merged since."""
    draw, counter = rng.random(), rng.choice(counters)
    department = {"departments": [counter["department"]]}
    if draw < 0.001:
        return {"national": True}, department
    if draw < 0.2:
        return department, department
    return {"communes": [counter["commune_insee"]]}, department


def registered(i, territories, today):
    pact = Pact.from_dict(
        {
            "name": f"Service citoyen {i}",
            "legal_form": "association",
            "mission": "Aide aux démarches",
            "contact_email": f"contact{i}@example.org",
            "domains": ["digital_inclusion"],
            "rna": f"W{i:09d}",
            "territories": territories,
        }
    )
    return CitizenService.register(str(uuid.uuid4()), pact, "registrar/bench", today)


def load_registry(database, n, counters, rng, progress=None):
    today = date.today()
    for start in range(0, n, BATCH):
        with database.uow() as uow:
            for i in range(start, min(n, start + BATCH)):
                territories, fallback = territory(rng, counters)
                try:
                    service = registered(i, territories, today)
                except InvalidPact:
                    service = registered(i, fallback, today)
                service.approve(today)
                uow.services.add(service)
                uow.services.keep_version(service, None, "registrar/bench", utcnow())
            uow.commit()
        if progress:
            progress(min(n, start + BATCH))


def approved_events(database, after=0, limit=BATCH):
    t = spec("registry").unit_of_work.outbox_table
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.body)
            .where(t.c.id > after, t.c.event_type == "registry.service_approved")
            .order_by(t.c.id)
            .limit(limit)
        ).all()
    return rows[-1].id if rows else after, [envelope.parse(r.body.encode(), "registry.service_approved") for r in rows]


def load_distribution(registry_db, database, counters, progress=None):
    distribution.import_counters(database.uow(), counters)
    after, done = 0, 0
    while True:
        after, events = approved_events(registry_db, after)
        if not events:
            return done
        apply_batch(database.uow(), events, lambda uow, fresh: [distribution.on_service_standing(uow, e) for e in fresh])
        done += len(events)
        if progress:
            progress(done)


def densest_department(database):
    listings, counters = distribution_orm.listings, distribution_orm.counters
    with database.engine.connect() as conn:
        return conn.execute(
            select(counters.c.department, func.count())
            .select_from(listings.join(counters, listings.c.counter_id == counters.c.id))
            .where(listings.c.status == "published")
            .group_by(counters.c.department)
            .order_by(func.count().desc())
            .limit(1)
        ).one()


def time_counter_moves(database, counters, department, moves):
    """A counter from another département moves into `department` and back, `moves` times: the
    seconds each application took (its transaction, as the consumer runs it)."""
    mover = next(c for c in counters if c["department"] != department)
    there = next(c for c in counters if c["department"] == department)
    seconds = []
    for i in range(moves):
        row = dict(mover, commune_insee=there["commune_insee"], department=department) if i % 2 == 0 else mover
        started = time.perf_counter()
        with database.uow() as uow:
            distribution.upsert_counter(uow, row)
            uow.commit()
        seconds.append(time.perf_counter() - started)
    return seconds


def load_loop(api, departments, counter_ids, per_second, seconds, rng):
    """Ask both reads, half each, at `per_second` from a few threads; latencies by endpoint."""
    latencies = {"services_by_department": [], "counter_catalogue": []}
    errors, lock = [], threading.Lock()
    interval, threads = 1.0 / per_second, 32  # enough that a slow answer does not hold the rate down
    deadline = time.monotonic() + seconds

    def worker(k):
        local = random.Random(rng.random())
        next_at = time.monotonic() + k * interval
        while next_at < deadline:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if local.random() < 0.5:
                what, service = "services_by_department", "registry"
                path = f"/services?department={local.choice(departments)}&limit=50"
            else:
                what, service = "counter_catalogue", "distribution"
                path = f"/counters/{local.choice(counter_ids)}/catalogue"
            started = time.perf_counter()
            response = api.call("GET", service, path, "viewer")
            took = time.perf_counter() - started
            with lock:
                (latencies[what] if response.status_code == 200 else errors).append(
                    took if response.status_code == 200 else (path, response.status_code)
                )
            next_at += threads * interval

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    if errors:
        raise AssertionError(f"{len(errors)} reads failed, e.g. {errors[:3]}")
    return {
        what: {"requests": len(ms), "p50_ms": 1000 * percentile(ms, 50), "p99_ms": 1000 * percentile(ms, 99)}
        for what, ms in latencies.items()
    } | {"rate_req_s": sum(map(len, latencies.values())) / elapsed}


def _template_names(services, seed):
    """The databases a national run keeps its data in, named by what makes the data (its size and
    seed). A copy is migrated to the code's head when opened, so a later schema still reads them;
    `--fresh` makes them again (after a change to how the data is made)."""
    return {name: f"spc_national_{name}_{services}_{seed}" for name in ("registry", "distribution")}


def _from_template(admin, urls, templates):
    """Copy each kept template into the run's fresh database (CREATE DATABASE … TEMPLATE): seconds
    instead of the load. False if they are not all there."""
    from sqlalchemy.engine import make_url

    have = {r[0] for r in admin.run("SELECT datname FROM pg_database")}
    if not set(templates.values()) <= have:
        return False
    for name, template in templates.items():
        db = make_url(urls[name]).database
        admin.run(f'DROP DATABASE "{db}"')
        admin.run(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    return True


def _keep_as_template(admin, urls, templates):
    from sqlalchemy.engine import make_url

    for name, template in templates.items():
        admin.run(f'DROP DATABASE IF EXISTS "{template}"')
        admin.run(f'CREATE DATABASE "{template}" TEMPLATE "{make_url(urls[name]).database}"')


def national(services, per_second=200, seconds=30, moves=20, seed=19, reuse=None):
    """`reuse` (by default for 10,000 services and more): the first run at a size keeps its data as template databases
    (`spc_national_<service>_<size>_<seed>`) and later runs copy them, in seconds, instead
    of making the data again (about 28 minutes for 100,000 services here); `python -m bench
    national --fresh` makes it again."""
    import tempfile
    from pathlib import Path

    from tests.servers import pg_admin
    from tests.support import Fleet

    rng = random.Random(seed)
    counters, _ = anct_csv.read_counters_file(COUNTERS)
    templates = _template_names(services, seed)
    reuse = services >= 10_000 if reuse is None else reuse
    with databases() as urls, vhost() as amqp_uri, tempfile.TemporaryDirectory() as tmp:
        admin = pg_admin()
        try:
            copied = reuse and _from_template(admin, urls, templates)
        finally:
            admin.close()
        registry_db, distribution_db = spec("registry").open(urls["registry"]), spec("distribution").open(urls["distribution"])
        try:
            started = time.monotonic()
            if not copied:
                load_registry(registry_db, services, counters, rng)
            loaded_registry = time.monotonic() - started
            if not copied:
                load_distribution(registry_db, distribution_db, counters)
            loaded = time.monotonic() - started
            for db in (registry_db, distribution_db):  # what loading wrote to the outboxes (100,000
                # service_approved, a million listing events) is not sent: the reads are measured
                # at rest, not beside the relays publishing that backlog
                outbox = db.spec.unit_of_work.outbox_table
                with db.engine.begin() as conn:
                    conn.execute(update(outbox).where(outbox.c.published_at.is_(None)).values(published_at=utcnow()))
            with distribution_db.engine.connect() as conn:
                listings = conn.execute(select(func.count()).select_from(distribution_orm.listings)).scalar()
            with registry_db.engine.connect() as conn:
                registered = conn.execute(select(func.count()).select_from(registry_orm.services)).scalar()
        finally:
            registry_db.close()
            distribution_db.close()
        if not copied and reuse:
            admin = pg_admin()
            try:
                _keep_as_template(admin, urls, templates)
            finally:
                admin.close()
        distribution_db = spec("distribution").open(urls["distribution"])
        try:
            department, dense = densest_department(distribution_db)
            moves_s = time_counter_moves(distribution_db, counters, department, moves)
        finally:
            distribution_db.close()
        fleet = Fleet(amqp_uri, {"registry": urls["registry"], "distribution": urls["distribution"]}, Path(tmp))
        try:
            fleet.start("registry", "distribution")
            reads = load_loop(
                fleet.api,
                sorted({c["department"] for c in counters}),
                [c["counter_id"] for c in counters],
                per_second,
                seconds,
                rng,
            )
        finally:
            fleet.close()
    return {
        "services": registered,
        "counters": len(counters),
        "listings": listings,
        "load_seconds": {"registry": round(loaded_registry, 1), "total": round(loaded, 1), "copied_from_template": bool(copied)},
        "densest_department": {"department": department, "published_listings": dense},
        "counter_move_ms": {"p50": 1000 * statistics.median(moves_s), "max": 1000 * max(moves_s), "runs": len(moves_s)},
        "reads": reads,
        "asked_req_s": per_second,
    }
