"""The staff HTTP edge: what a staff request's transaction carries besides its change, kept out of
the use cases and out of the unit of work (which only lets a participant join its transaction:
shared/core/unit_of_work.py). Its tables are shared/sql/staff.py's.

- Attribution: the events the request causes carry its caller (`role/label`) and its correlation
  id, and each is logged in the service's `staff_actions`, which the resources show as their
  `history`; in the transaction of the change.
- An `Idempotency-Key` (a staff POST): the key is claimed in the transaction of the change, so two
  copies at the same moment cannot both commit (the loser's claim fails; on SQLite it queues
  behind the first's transaction instead): the loser is answered as a retry. That transaction
  is then held open until the answer is known, and the change, the key and the answer commit
  together: a process that dies before then leaves nothing (never a key whose answer was lost,
  "in progress" for ever), and a refusal or a failure after the commit point keeps nothing. A
  retry gets the kept answer (`Replay`); a key reused for another request is refused.

`@api` (shared/web/http.py) runs every operation through `answer`; `Store.uow(call)`
(shared/service/providers.py) hands the use case a unit of work that `serve`s the call.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from ..observe import failpoints
from ..core.errors import Conflict, DomainError

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str


def fingerprint(method, path, body):
    """What makes two requests the same request: method, path and body (canonical JSON)."""
    text = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was used before by the same token for another request (another
    path or body): nothing was done."""

    code = "idempotency_key_reused"


class IdempotentRequestInProgress(Conflict):
    """A request with this Idempotency-Key was committed without its answer (only a version of SPC
    before 2026-12-04 could: look at the resource; such keys go after
    SPC_IDEMPOTENCY_RETENTION_HOURS); retry after Retry-After seconds."""

    code = "idempotent_request_in_progress"
    retry_after = 1


@dataclass(frozen=True)
class Replay:
    """The answer kept for an idempotency key, given again."""

    answer: object
    status: int


def serve(uow, call):
    """`uow`, serving the staff request `call`: its events carry the caller and the correlation id
    and are logged in `staff_actions`; with an Idempotency-Key, its commit claims the key and waits
    for the answer (`answer` commits them)."""
    uow.actor, uow.correlation_id = call.by or None, call.correlation_id
    return uow.join(_StaffTransaction(call))


class _StaffTransaction:
    """A staff request's part in a unit of work's transaction (a participant, shared/core/unit_of_work.py)."""

    def __init__(self, call):
        self.call, self.claimed = call, False

    def collected(self, uow, events):
        if self.call.by:
            uow.staff_log.add_many(events)

    def committing(self, uow):
        idem = self.call.idempotency
        if idem is None or self.claimed:
            return
        uow.idempotency_keys.claim(self.call.by, idem)  # a copy committing at the same time fails here
        self.claimed = True
        uow.flush()  # the change is made now (or fails here, not once answered)
        uow.hold()  # and waits with its key, in this open transaction, for the answer
        self.call.awaiting_answer.append(uow)


def answer(call, run, status, new_uow):
    """`run()` (the operation's method, bound to `call`) and its result. A POST carrying an
    Idempotency-Key is done at most once per key and token: a retry gets the first answer, a copy
    that lost the race to commit too. `status`: the operation's success status, kept with the
    answer; `new_uow()`: a fresh unit of work of the service, to look the key up."""
    idem = call.idempotency
    kept = _kept(new_uow, call) if idem is not None else None
    if kept is not None:
        return _replay(kept, idem)
    try:
        return _commit_with_answer(call, run, status)
    except IntegrityError:  # a copy committed first: its claim stood, and its answer with it
        kept = _kept(new_uow, call) if idem is not None else None
        if kept is None:
            raise
        return _replay(kept, idem)
    except DomainError:
        # a copy that committed first may have changed what this one found (it waited on the
        # copy's row locks, then found the service registered, the request pending...): the
        # copy's answer is this request's answer; a refusal with no answer kept stands
        kept = _kept(new_uow, call) if idem is not None else None
        if kept is None or kept.status is None:
            raise
        return _replay(kept, idem)


def _commit_with_answer(call, run, status):
    """`run()`, then the transaction held for its answer committed with the answer kept (the
    change, the key and the answer: one commit). Whatever else happens (a refusal or a failure
    after the commit point, a page for an answer) rolls the held transaction back."""
    held = call.awaiting_answer
    try:
        result = run()
        if isinstance(result, Response):
            return result  # not an answer to keep: the change, if any, is undone
        if held:
            failpoints.fire("http.before_answer")  # off in production
            held[-1].idempotency_keys.keep_answer(call.by, call.idempotency.key, status, result)
            held.pop().release(commit=True)
        elif call.idempotency is not None:
            log.error(
                "%s took an Idempotency-Key but its unit of work did not serve the call "
                "(store.uow(call)): the key was not claimed",
                getattr(run, "func", run).__name__,
            )
        return result
    finally:
        while held:
            held.pop().release(commit=False)


def _kept(new_uow, call):
    with new_uow() as uow:
        return uow.idempotency_keys.find(call.by, call.idempotency.key)


def _replay(kept, idem):
    if kept.fingerprint != idem.fingerprint:
        raise IdempotencyKeyReused(f"{IDEMPOTENCY_HEADER} {idem.key} was used for another request", {"idempotency_key": idem.key})
    if kept.status is None:
        raise IdempotentRequestInProgress(
            f"the request with {IDEMPOTENCY_HEADER} {idem.key} is being handled", {"idempotency_key": idem.key}
        )
    return Replay(json.loads(kept.answer), kept.status)
