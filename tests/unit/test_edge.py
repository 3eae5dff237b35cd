"""The staff edge (shared/web/edge.py) on an in-memory unit of work: a staff request's events are
attributed and logged, a request with an Idempotency-Key commits only with its answer, and a
retry is answered from the key. (Rollbacks need a real database: tests/integration/test_edge.py.)"""

import pytest
from werkzeug.wrappers import Response

from spc.services.funding import handlers
from spc.services.funding.domain.commands import CreateProgramme
from spc.services.funding.exceptions import ProgrammeNotFound
from spc.shared.web import edge
from spc.shared.web.auth import Actor
from spc.shared.web.edge import Idempotency, IdempotencyKeyReused, Replay, fingerprint, serve
from spc.shared.web.http import Call
from tests.unit.fakes import FakeFundingUnitOfWork

BODY = {"name": "Petite enfance", "budget_cents": 1_000_000}


def staff_call(key=None, body=BODY):
    idem = Idempotency(key, fingerprint("POST", "/programmes", body)) if key else None
    return Call(Actor("funding_officer", "tests"), body, correlation_id="corr-1", idempotency=idem)


def create(uow, call):
    return handlers.create_programme(uow, CreateProgramme(call.body["name"], call.body["budget_cents"], call.by))


def test_a_served_transaction_s_events_carry_the_caller_and_are_in_the_history_it_answers():
    uow = FakeFundingUnitOfWork()
    answer = create(serve(uow, staff_call()), staff_call())
    [event] = uow.outbox.events
    assert (event.actor, event.correlation_id) == ("funding_officer/tests", "corr-1")
    assert [(h["action"], h["by"], h["event_id"]) for h in answer["history"]] == [
        ("funding.programme_opened", "funding_officer/tests", str(event.event_id))
    ]
    assert uow.commits == 1 and not uow.idempotency_keys.keys


def test_a_transaction_serving_no_call_is_attributed_to_nobody():
    uow = FakeFundingUnitOfWork()
    answer = create(uow, staff_call())
    assert uow.outbox.events[0].actor is None and answer["history"] == [] and uow.staff_log.actions == []


def test_with_a_key_the_change_commits_only_with_its_answer_and_a_retry_gets_that_answer():
    uow, call = FakeFundingUnitOfWork(), staff_call("key-0001")
    committed_before_the_answer = []

    def run():
        answer = create(serve(uow, call), call)
        committed_before_the_answer.append(uow.commits)
        return answer

    first = edge.answer(call, run, 201, lambda: uow)
    assert committed_before_the_answer == [0] and uow.commits == 1 and not uow.held
    kept = uow.idempotency_keys.find(call.by, "key-0001")
    assert (kept.fingerprint, kept.status) == (call.idempotency.fingerprint, 201)
    again = edge.answer(staff_call("key-0001"), lambda: pytest.fail("run again"), 201, lambda: uow)
    assert isinstance(again, Replay) and again.status == 201 and again.answer["id"] == first["id"]
    with pytest.raises(IdempotencyKeyReused):
        edge.answer(staff_call("key-0001", dict(BODY, budget_cents=5)), lambda: pytest.fail("run"), 201, lambda: uow)
    assert len(uow.outbox.events) == 1


def test_a_copy_refused_because_the_first_copy_committed_is_answered_as_a_retry():
    """Two copies at once: the second waited on the first's row locks, then found its effect (an
    `AlreadyRegistered`, an `ApprovalPending`) and refused; the first's kept answer is its answer."""
    uow, first_call = FakeFundingUnitOfWork(), staff_call("key-0005")
    first = edge.answer(first_call, lambda: create(serve(uow, first_call), first_call), 201, lambda: uow)

    def found_the_first_copy_s_effect():
        raise ProgrammeNotFound("refused: what the first copy changed", {})

    again = edge.answer(staff_call("key-0005"), found_the_first_copy_s_effect, 201, _after_the_first_looked(uow))
    assert isinstance(again, Replay) and again.answer["id"] == first["id"]
    with pytest.raises(ProgrammeNotFound):  # no answer kept for this key: the refusal stands
        edge.answer(staff_call("key-0006"), found_the_first_copy_s_effect, 201, lambda: uow)
    with pytest.raises(ProgrammeNotFound):  # no key: a refusal is a refusal
        edge.answer(staff_call(), found_the_first_copy_s_effect, 201, lambda: uow)


def _after_the_first_looked(uow):
    """new_uow for a copy that looked its key up before the first copy committed: its first look
    finds nothing, the next ones what the first copy kept."""
    looks = []

    def new_uow():
        looks.append(1)
        return FakeFundingUnitOfWork() if len(looks) == 1 else uow

    return new_uow


def held_run(uow, call, then):
    def run():
        create(serve(uow, call), call)
        return then()

    return run


def test_a_held_transaction_that_fails_after_the_commit_point_is_released_uncommitted():
    uow, call = FakeFundingUnitOfWork(), staff_call("key-0002")
    with pytest.raises(RuntimeError, match="after the commit point"):
        edge.answer(call, held_run(uow, call, _raise), 201, lambda: uow)
    assert uow.commits == 0 and not uow.held and call.awaiting_answer == []


def test_a_held_transaction_whose_method_answers_with_a_page_is_released_uncommitted():
    uow, call = FakeFundingUnitOfWork(), staff_call("key-0003")
    page = Response("a page")
    assert edge.answer(call, held_run(uow, call, lambda: page), 201, lambda: uow) is page
    assert uow.commits == 0 and not uow.held and call.awaiting_answer == []


def _raise():
    raise RuntimeError("after the commit point")
