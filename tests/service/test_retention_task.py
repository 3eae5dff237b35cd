"""The retention task in a running service: `prune`, the periodic entrypoint every service has,
run by nameko (entrypoint_hook) with the policy from the environment, deletes what is past its
horizon in the service's own database, under its own lock, and counts it in /metrics."""

from datetime import timedelta

from nameko.testing.services import entrypoint_hook
from sqlalchemy import insert, select

from spc.services.registry import orm
from spc.shared.core.clock import utcnow
from spc.shared.sql.persistence import make_engine
from tests.support import metric, wait_for


def test_the_periodic_prune_applies_the_configured_policy(cluster_factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    cluster, api = cluster_factory(("registry",), db_urls={"registry": url}, SPC_INBOX_RETENTION_DAYS="2")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(orm.processed_events),
            [
                {"event_id": eid, "event_type": "x.y", "processed_at": utcnow() - timedelta(days=age)}
                for eid, age in (("three-days", 3), ("one-day", 1))
            ],
        )
    [container] = cluster.runners["registry"].containers
    with entrypoint_hook(container, "prune") as prune:
        prune()
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(select(orm.processed_events.c.event_id))] == ["one-day"]
    assert metric(api, "registry", "spc_registry_pruned_rows_total", table="processed_events") == 1
    engine.dispose()


def test_the_prune_runs_by_itself_every_spc_prune_seconds(cluster_factory, tmp_path):
    """Every 600 s by default; SPC_PRUNE_SECONDS sets how often (here half a second)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    cluster, api = cluster_factory(
        ("registry",), db_urls={"registry": url}, SPC_INBOX_RETENTION_DAYS="2", SPC_PRUNE_SECONDS="0.5"
    )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(orm.processed_events),
            [{"event_id": "three-days", "event_type": "x.y", "processed_at": utcnow() - timedelta(days=3)}],
        )
    wait_for(
        "the periodic prune",
        lambda: metric(api, "registry", "spc_registry_pruned_rows_total", table="processed_events") == 1,
        timeout=20,
    )
    with engine.connect() as conn:
        assert not list(conn.execute(select(orm.processed_events.c.event_id)))
    engine.dispose()
