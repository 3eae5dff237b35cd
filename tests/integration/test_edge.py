"""The staff HTTP edge (shared/web/edge.py) on SQLite and PostgreSQL, as `@api` drives it but without
HTTP: a POST with an Idempotency-Key is applied once per key, its change, key and answer commit
together, and whatever stops it before its answer leaves nothing (issue 23). The same promises
over HTTP: tests/api/test_accountability.py, tests/faults/test_process_deaths.py."""

import json

import eventlet
import pytest
from sqlalchemy import func, select

from spc.runtime.fleet import spec
from spc.services.funding import handlers, orm
from spc.services.funding.domain.commands import CreateProgramme
from spc.shared.web import edge
from spc.shared.observe import failpoints
from spc.shared.web.auth import Actor
from spc.shared.web.edge import Idempotency, IdempotencyKeyReused, Replay, fingerprint, serve
from spc.shared.core.errors import Conflict
from spc.shared.web.http import Call
from tests.support import await_lock_waiters, wait_for

BODY = {"name": "Petite enfance", "budget_cents": 1_000_000}


@pytest.fixture
def funding(db_url):
    database = spec("funding").open(db_url)
    yield database
    database.close()


def staff_call(body=BODY, key="key-0001"):
    return Call(
        Actor("funding_officer", "tests"),
        body,
        correlation_id="corr-1",
        idempotency=Idempotency(key, fingerprint("POST", "/programmes", body)),
    )


def post(database, call, then=lambda answer: answer):
    """POST /programmes as `@api` runs it (its answer passed through `then`, in the method)."""

    def create_programme():
        cmd = CreateProgramme(call.body["name"], call.body["budget_cents"], call.by)
        return then(handlers.create_programme(serve(database.uow(), call), cmd))

    return edge.answer(call, create_programme, 201, database.uow)


def counts(database):
    """What is committed: (programmes, idempotency keys, outbox rows, staff actions)."""
    with database.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar()
            for table in (orm.programmes, orm.idempotency_keys, orm.outbox, orm.staff_actions)
        )


def as_kept(answer):
    return json.loads(json.dumps(answer, default=str))


def test_a_retry_with_the_same_key_gets_the_first_answer_and_changes_nothing_more(funding):
    first = post(funding, staff_call())
    assert [(h["action"], h["by"], h["correlation_id"]) for h in first["history"]] == [
        ("funding.programme_opened", "funding_officer/tests", "corr-1")
    ]
    again = post(funding, staff_call())
    assert isinstance(again, Replay) and (again.status, again.answer) == (201, as_kept(first))
    assert counts(funding) == (1, 1, 1, 1)


def test_a_key_reused_for_another_request_is_refused_and_does_nothing(funding):
    post(funding, staff_call())
    with pytest.raises(IdempotencyKeyReused):
        post(funding, staff_call(dict(BODY, budget_cents=5)))
    assert counts(funding) == (1, 1, 1, 1)


@pytest.mark.parametrize("failure", [Conflict("refused after the commit point"), RuntimeError("failed after it")])
def test_a_refusal_or_a_failure_after_the_commit_point_keeps_nothing_and_the_retry_is_applied(funding, failure):
    def fail(answer):
        raise failure

    with pytest.raises(type(failure)):
        post(funding, staff_call(), then=fail)
    assert counts(funding) == (0, 0, 0, 0)
    assert not isinstance(post(funding, staff_call()), Replay)
    assert counts(funding) == (1, 1, 1, 1)


def test_a_request_stopped_where_it_waits_for_its_answer_leaves_nothing(funding):
    """`http.before_answer` is where tests/faults kills the process; raising there is the same cut."""
    failpoints.configure("http.before_answer=raise@1")
    try:
        with pytest.raises(RuntimeError, match="failpoint"):
            post(funding, staff_call())
    finally:
        failpoints.configure("")
    assert counts(funding) == (0, 0, 0, 0)
    assert not isinstance(post(funding, staff_call()), Replay)
    assert counts(funding) == (1, 1, 1, 1)


def test_until_its_answer_is_kept_nothing_of_the_request_is_committed(pg_url):
    """(PostgreSQL: another connection reads while the request's transaction is open; SQLite's
    readers would queue behind its writer.)"""
    database = spec("funding").open(pg_url)
    seen = []
    post(database, staff_call(), then=lambda answer: seen.append(counts(database)) or answer)
    assert seen == [(0, 0, 0, 0)] and counts(database) == (1, 1, 1, 1)
    database.close()


def test_two_copies_at_the_same_moment_commit_once_and_the_loser_is_answered_as_a_retry(funding):
    copies = []

    def race(answer):  # the first copy's change and key are made, not committed: a second copy comes
        copies.append(eventlet.spawn(post, funding, staff_call()))
        if funding.lock is not None:  # SQLite: it queues for the writer's lock, to look its key up
            wait_for("the copy queued", lambda: any(funding.lock._waiters.values()))
        else:  # PostgreSQL: its claim waits on the first copy's key
            await_lock_waiters(funding.engine, 1, "the copy's claim waiting on the first's key")
        return answer

    first = post(funding, staff_call(), then=race)
    second = copies[0].wait()
    assert isinstance(second, Replay) and second.answer == as_kept(first)
    assert counts(funding) == (1, 1, 1, 1)
