"""Faults 2, 8 and 10: a process dies or stalls at the worst moment of the messaging path.

- SIGKILL inside a handler, before the ack (before or after its commit): the broker redelivers;
  the effect is applied exactly once.
- The outbox relay dies between the broker's confirm and marking the rows sent: the events go out
  again on restart and the consumers' deduplication absorbs them.
- A handler holds the CPU past twice the heartbeat interval: the broker drops the connection and
  redelivers a message already applied; it is applied once.
"""

import pytest

from tests.faults import story
from tests.support import metric, rabbit_queue, wait_for


def _suspension_with_funding_dying(fleet, amqp_uri, ledger, tap, die):
    """Run the story to a funded service, restart funding with the fault `die(fleet)` arms,
    publish a violation and return what the ledger needs."""
    fleet.start()
    api = fleet.api
    inbound = story.counters(amqp_uri)
    sid = story.active_service(api)
    tranches = story.funded(api, sid)
    api.ok("POST", "funding", f"/tranches/{tranches[0]}/release", "funding_officer")
    wait_for("listings", lambda: story.listing_statuses(api, sid) == {"published"})
    die(fleet)
    inbound.append(story.violation(amqp_uri, sid))
    return api, sid, tranches, inbound


def test_sigkill_inside_a_handler_before_commit_applies_the_effect_once(fleet, amqp_uri, ledger, tap):
    def die(fleet):  # the handler will sit in its open transaction until we kill it
        fleet.restart("funding", SPC_FAILPOINTS="handler.before_commit=sleep:60@1")

    api, sid, tranches, inbound = _suspension_with_funding_dying(fleet, amqp_uri, ledger, tap, die)
    wait_for(
        "the suspension held unacked inside funding's handler",
        lambda: rabbit_queue(amqp_uri, "funding.events").get("messages_unacknowledged") == 1,
    )
    fleet.kill("funding")  # SIGKILL, mid-transaction, before the ack
    fleet.start("funding")
    story.wait_suspended_everywhere(api, sid, released=1)
    assert len([e for e in ledger.events_of("funding", "funding.funding_frozen") if e["payload"]["service_id"] == sid]) == 1
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0 and summary["duplicate_payments"] == 0


def test_sigkill_after_commit_before_ack_is_absorbed_by_deduplication(fleet, amqp_uri, ledger, tap):
    def die(fleet):  # the process exits (like SIGKILL) right after its commit, before its ack
        fleet.restart("funding", SPC_FAILPOINTS="consumer.after_commit.funding.events=exit@1")

    api, sid, tranches, inbound = _suspension_with_funding_dying(fleet, amqp_uri, ledger, tap, die)
    assert fleet.wait_exit("funding") == 137
    fleet.start("funding")
    story.wait_suspended_everywhere(api, sid, released=1)
    wait_for(
        "the redelivered suspension ignored as a duplicate",
        lambda: metric(api, "funding", "spc_funding_duplicates_ignored_total", event_type="registry.service_suspended") == 1,
    )
    assert len([e for e in ledger.events_of("funding", "funding.funding_frozen") if e["payload"]["service_id"] == sid]) == 1
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0 and summary["duplicate_payments"] == 0


def test_relay_killed_between_publish_and_mark_republishes_and_consumers_absorb(fleet, amqp_uri, ledger, tap):
    fleet.start("funding", "distribution", "audit")
    fleet.start("registry", wait=False, SPC_FAILPOINTS="relay.after_publish=exit@1")
    fleet.wait_ready("registry")
    api = fleet.api
    sid = api.ok("POST", "registry", "/services", "registrar", story.PACT)["id"]
    assert fleet.wait_exit("registry") == 137  # died after the confirm, before marking sent
    fleet.start("registry")
    wait_for("funding follows", lambda: api.ok("GET", "funding", f"/services/{sid}/funding")["status"] == "submitted")
    submitted = [e for e in ledger.events_of("registry", "registry.service_submitted") if e["payload"]["service_id"] == sid]
    assert len(submitted) == 1
    wait_for(
        "the event published a second time",  # once before the crash, once after
        lambda: story.wire_ids(tap).count(submitted[0]["event_id"]) == 2,
        timeout=30,
    )
    # ... applied once by each queue bound to it, the copy ignored (audit has two: its standings
    # and its journal)
    for name, copies in (("funding", 1), ("distribution", 1), ("audit", 2)):
        wait_for(
            f"{name} ignores the copy",
            lambda n=name, c=copies: (
                metric(api, n, f"spc_{n}_duplicates_ignored_total", event_type="registry.service_submitted") == c
            ),
        )
    summary = ledger.check((), tap)
    assert summary["lost"] == 0 and summary["journal"] == summary["events"]


@pytest.mark.timeout(240)
def test_handler_hogging_the_cpu_past_the_heartbeat_applies_once(fleet, amqp_uri, ledger, tap):
    def die(fleet):  # heartbeat 1 s; the handler then holds the CPU for 8 s after its commit
        fleet.restart("funding", SPC_HEARTBEAT="1", SPC_FAILPOINTS="consumer.after_commit.funding.events=hog:8@1")

    api, sid, tranches, inbound = _suspension_with_funding_dying(fleet, amqp_uri, ledger, tap, die)
    story.wait_suspended_everywhere(api, sid, released=1)
    wait_for(
        "the broker redelivered it and funding ignored the copy",
        lambda: metric(api, "funding", "spc_funding_duplicates_ignored_total", event_type="registry.service_suspended") == 1,
        timeout=90,
    )
    assert metric(api, "funding", "spc_funding_redeliveries_total", queue="funding.events") >= 1
    assert len([e for e in ledger.events_of("funding", "funding.funding_frozen") if e["payload"]["service_id"] == sid]) == 1
    summary = ledger.check(inbound, tap)
    assert summary["lost"] == 0 and summary["duplicate_payments"] == 0


def test_a_staff_request_killed_before_its_answer_is_applied_once_by_its_retry(fleet, amqp_uri, ledger):
    """SIGKILL (a failpoint's exit) after a POST with an Idempotency-Key made its change and
    claimed its key, before the answer was kept: nothing of it is committed (the change, the key and
    the answer commit together), so the retry with the same key is applied, once, and a further
    retry is answered as the first; never a key left "in progress" for ever."""
    import uuid

    fleet.start("registry", "distribution", "audit")
    fleet.start("funding", SPC_FAILPOINTS="http.before_answer=exit@1")
    api = fleet.api
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "Petite enfance", "budget_cents": 1_000_000}
    try:
        died = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    except Exception:  # the connection dropped with the process
        died = None
    assert died is None or died.status_code >= 500
    assert fleet.wait_exit("funding") == 137
    fleet.start("funding")
    first = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    again = api.call("POST", "funding", "/programmes", "funding_officer", body, headers=key)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert [p["name"] for p in api.ok("GET", "funding", "/programmes")["items"]] == ["Petite enfance"]
    assert len(ledger.events_of("funding", "funding.programme_opened")) == 1
