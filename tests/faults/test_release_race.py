"""Fault 7: releases of a service's tranches racing with a violation against it. Once funding
has processed the suspension no release succeeds; each release happened before it, whole, or
not at all (a payment order and a released tranche, or neither). Both outcomes are forced, so
every claim is checked on every run: one tranche is released before the violation is published,
and ten are kept out of the race, to be refused after the freeze."""

import json
import random
from concurrent.futures import ThreadPoolExecutor

from tests.faults import story

TRANCHES = 60


def test_releases_racing_a_violation_are_all_or_nothing_and_none_after_the_freeze(fleet, amqp_uri, ledger, tap):
    fleet.start()
    api = fleet.api
    inbound = story.counters(amqp_uri)
    sid = story.active_service(api)
    tranches = story.funded(api, sid, tranches=TRANCHES, amount=1_000)
    first, racing, kept = tranches[0], tranches[1:-10], tranches[-10:]
    attempts = [t for t in racing for _ in range(2)]
    random.Random(7).shuffle(attempts)

    def release(tranche_id):
        resp = api.call("POST", "funding", f"/tranches/{tranche_id}/release", "funding_officer")
        return tranche_id, resp.status_code, resp.json()

    results = [release(first)]  # released before the violation exists: the first outcome
    assert results[0][1] == 200, results
    with ThreadPoolExecutor(max_workers=8) as pool:
        head = [pool.submit(release, t) for t in attempts[:30]]
        inbound.append(story.violation(amqp_uri, sid))
        tail = [pool.submit(release, t) for t in attempts[30:]]
        results += [f.result() for f in head + tail]
    released_ok = sorted(t for t, code, _ in results if code == 200)
    print(f"race: {len(released_ok)} of {TRANCHES} tranches released before the freeze")
    story.wait_suspended_everywhere(api, sid, released=len(released_ok))

    assert {code for _, code, _ in results} <= {200, 409}, results
    assert {body["error"]["code"] for _, code, body in results if code == 409} <= {"already_released", "funding_frozen"}
    assert len(released_ok) == len(set(released_ok))  # no tranche released twice

    events = [(row.id, row.event_type, json.loads(row.body)) for row in ledger.outbox("funding")]
    released = [(i, b["payload"]["tranche_id"]) for i, t, b in events if t == "funding.tranche_released"]
    frozen = [(i, b["payload"]["tranche_ids"]) for i, t, b in events if t == "funding.funding_frozen"]
    assert sorted(t for _, t in released) == released_ok  # one payment order per 200, no more
    not_released = sorted(set(tranches) - set(released_ok))
    assert first in released_ok and set(kept) <= set(not_released)  # both outcomes occurred
    # the freeze took exactly the tranches left, and no payment order came after it
    assert len(frozen) == 1 and sorted(frozen[0][1]) == not_released
    assert all(i < frozen[0][0] for i, _ in released)
    for tranche_id in kept:  # the second outcome: refused once frozen
        resp = api.call("POST", "funding", f"/tranches/{tranche_id}/release", "funding_officer")
        assert resp.status_code == 409 and resp.json()["error"]["code"] == "funding_frozen", resp.text
    statuses = story.tranche_statuses(api, sid)
    assert statuses.count("released") == len(released_ok)
    assert statuses.count("frozen") == len(not_released)
    summary = ledger.check(inbound, tap)
    assert summary["payments"] == len(released_ok) and summary["duplicate_payments"] == 0
