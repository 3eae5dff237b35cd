"""Two people for money, on PostgreSQL with two replicas of funding (SPC_DUAL_CONTROL_CENTS=0:
every release takes two). One funding officer requests a release; another approves it six times
at once through both replicas: exactly one approval succeeds and exactly one payment order is
written and published, naming both people. A violation between another request and its approval
turns that request down: its approval fails and nothing is paid."""

import json
from concurrent.futures import ThreadPoolExecutor

from tests.faults import story
from tests.support import TOKENS, TOKENS_ENV, Api, Fleet, wait_for

ENV = {"SPC_DUAL_CONTROL_CENTS": "0", "SPC_ADMIN_TOKENS": TOKENS_ENV + ",funding_officer/bob:t-bob"}
ALICE = "funding_officer/tests"  # TOKENS' funding officer
BOB = "funding_officer/bob"


def test_two_approvals_at_once_from_two_replicas_make_one_payment_order_and_a_violation_voids_a_request(
    amqp_uri, db_urls, tmp_path, ledger
):
    (tmp_path / "r0").mkdir()
    (tmp_path / "r1").mkdir()
    fleets = [Fleet(amqp_uri, db_urls, tmp_path / "r0", env=ENV), Fleet(amqp_uri, db_urls, tmp_path / "r1", env=ENV)]
    try:
        fleets[0].start()
        fleets[1].start("funding")
        alice = fleets[0].api
        bobs = [Api(f.ports, dict(TOKENS, funding_officer="t-bob")) for f in fleets]
        story.counters(amqp_uri)
        sid = story.active_service(alice)
        first, second, _ = story.funded(alice, sid, tranches=3, amount=250_000)

        resp = alice.call("POST", "funding", f"/tranches/{first}/release", "funding_officer")
        assert resp.status_code == 409 and resp.json()["error"]["code"] == "dual_control_required", resp.text
        request = alice.ok(
            "POST",
            "funding",
            "/approvals",
            "funding_officer",
            {"action": "release", "target_id": first, "reason": "Jalon m0 atteint", "evidence": "PV-CA-2027-01"},
        )
        mine = alice.call("POST", "funding", f"/approvals/{request['id']}/approve", "funding_officer")
        assert mine.status_code == 409 and mine.json()["error"]["code"] == "same_approver", mine.text

        def approve(api):
            answer = api.call("POST", "funding", f"/approvals/{request['id']}/approve", "funding_officer")
            return answer.status_code, answer.json()

        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(approve, bobs * 3))
        codes = sorted(code for code, _ in answers)
        assert codes == [200] + [409] * 5, answers
        assert {body["error"]["code"] for code, body in answers if code == 409} == {"approval_not_pending"}

        outbox = [(row.event_type, json.loads(row.body)["payload"]) for row in ledger.outbox("funding")]
        orders = [p for t, p in outbox if t == "funding.tranche_released"]
        assert [(o["tranche_id"], o["released_by"], o["approved_by"]) for o in orders] == [(first, ALICE, BOB)]
        assert [t for t, p in outbox if t.startswith("funding.release_")] == [
            "funding.release_requested",
            "funding.release_approved",
        ]
        with ledger.engines["funding"].connect() as conn:
            assert conn.exec_driver_sql("SELECT tranche_id FROM payment_orders").scalars().all() == [first]
        tranche = next(
            t for g in alice.ok("GET", "funding", f"/services/{sid}/funding")["grants"] for t in g["tranches"] if t["id"] == first
        )
        assert (tranche["status"], tranche["released_by"], tranche["approved_by"]) == ("released", ALICE, BOB)
        history = alice.ok("GET", "funding", f"/approvals/{request['id']}")["history"]
        assert [(h["action"], h["by"]) for h in history] == [
            ("funding.release_requested", ALICE),
            ("funding.release_approved", BOB),
        ]

        # a violation between a request and its approval: the request is turned down by funding
        pending = alice.ok(
            "POST",
            "funding",
            "/approvals",
            "funding_officer",
            {"action": "release", "target_id": second, "reason": "Jalon m1 atteint"},
        )
        story.violation(amqp_uri, sid)
        story.wait_suspended_everywhere(alice, sid, released=1)
        voided = wait_for(
            "the request turned down",
            lambda: (lambda r: r if r["status"] == "rejected" else None)(
                alice.ok("GET", "funding", f"/approvals/{pending['id']}")
            ),
        )
        assert voided["decided_by"] == "spc/funding" and "suspended" in voided["decision_reason"]
        late = bobs[1].call("POST", "funding", f"/approvals/{pending['id']}/approve", "funding_officer")
        assert late.status_code == 409 and late.json()["error"]["code"] == "approval_not_pending", late.text
        with ledger.engines["funding"].connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM payment_orders").scalar() == 1
    finally:
        for fleet in fleets:
            fleet.close()
        print("\n".join(fleet.logs() for fleet in fleets)[-6000:])
