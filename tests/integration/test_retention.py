"""The retention policy (shared/sql/retention.py) on SQLite and PostgreSQL: what is past its horizon
goes, in batches; what is younger stays; an unsent outbox row stays whatever its age; and what
the inbox forgot, it no longer recognises (hence a horizon longer than any copy's delay)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from spc.runtime.fleet import spec
from spc.shared.core.clock import utcnow
from spc.shared.sql.outbox import Inbox
from spc.shared.sql.persistence import make_engine
from spc.shared.sql.retention import Retention, RetentionError, prune


@pytest.mark.parametrize("service", ["registry", "audit"])
def test_what_is_past_its_horizon_goes_and_the_rest_stays(db_url, service):
    engine = make_engine(db_url)
    spec(service).migrate(engine)
    unit_of_work = spec(service).unit_of_work
    orm = unit_of_work.orm
    now = utcnow()
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    with engine.begin() as conn:
        conn.execute(
            insert(orm.processed_events),
            [{"event_id": f"in-{age}", "event_type": "x.y", "processed_at": days(age)} for age in (40, 29, 31)],
        )
        conn.execute(
            insert(orm.outbox),
            [
                {
                    "event_id": eid,
                    "event_type": "x.y",
                    "exchange": "spc.events",
                    "body": "{}",
                    "created_at": days(age),
                    "published_at": published,
                }
                for eid, age, published in [("sent-old", 9, days(8)), ("sent-young", 9, days(6)), ("unsent-old", 60, None)]
            ],
        )
        conn.execute(
            insert(orm.idempotency_keys),
            [
                {
                    "actor": "registrar/a",
                    "key": f"k-{hours}",
                    "fingerprint": "f",
                    "status": None if hours > 24 else 201,
                    "answer": None,
                    "created_at": now - timedelta(hours=hours),
                }
                for hours in (25, 23)
            ],
        )
        conn.execute(
            insert(orm.staff_actions),
            [
                {"subject_id": "s", "action": "x.y", "event_id": f"st-{age}", "actor": "a", "at": days(age)}
                for age in (3651, 3649)
            ],
        )
    deleted = prune(engine.begin, unit_of_work, Retention(), now=now, batch=1)  # a row a batch: the loop runs
    assert deleted == {"processed_events": 2, "outbox": 1, "idempotency_keys": 1, "staff_actions": 1}
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(select(orm.processed_events.c.event_id))} == {"in-29"}
        assert {r[0] for r in conn.execute(select(orm.outbox.c.event_id))} == {"sent-young", "unsent-old"}
        assert {r[0] for r in conn.execute(select(orm.idempotency_keys.c.key))} == {"k-23"}
        assert {r[0] for r in conn.execute(select(orm.staff_actions.c.event_id))} == {"st-3649"}
    with Session(engine) as session:  # forgotten: a copy of in-40 would be applied again
        inbox = Inbox(session, orm.processed_events)
        copies = [SimpleNamespace(event_id=e, event_type="x.y") for e in ("in-40", "in-29")]
        assert inbox.claim_many(copies) == {"in-40"}
        session.rollback()
    engine.dispose()


def test_a_horizon_longer_than_the_calendar_keeps_everything(db_url):
    """SPC_STAFF_HISTORY_DAYS=1e9 ("keep it forever") is past what a date can count back: the
    pruner deletes nothing, where it used to fail on every round (OverflowError)."""
    engine = make_engine(db_url)
    spec("registry").migrate(engine)
    orm = spec("registry").unit_of_work.orm
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(orm.staff_actions),
            [{"subject_id": "s", "action": "x.y", "event_id": "st-old", "actor": "a", "at": now - timedelta(days=36500)}],
        )
    forever = Retention.from_environ({"SPC_STAFF_HISTORY_DAYS": "1e9", "SPC_INBOX_RETENTION_DAYS": "1e300"})
    assert forever.cutoffs(now)["staff_history"].year == 1
    deleted = prune(engine.begin, spec("registry").unit_of_work, forever, now=now)
    assert deleted["staff_actions"] == 0 and deleted["processed_events"] == 0
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(select(orm.staff_actions.c.event_id))] == ["st-old"]
    engine.dispose()


def test_the_policy_reads_its_settings_and_refuses_nonsense():
    policy = Retention.from_environ({"SPC_INBOX_RETENTION_DAYS": "60", "SPC_IDEMPOTENCY_RETENTION_HOURS": "0.5"})
    assert (policy.inbox_days, policy.outbox_days, policy.idempotency_hours) == (60, 7, 0.5)
    for bad in ("0", "-1", "soon"):
        with pytest.raises(RetentionError, match="SPC_OUTBOX_RETENTION_DAYS"):
            Retention.from_environ({"SPC_OUTBOX_RETENTION_DAYS": bad})
