"""Funding's money story, walked through the use cases on any unit of work (the in-memory fakes
in tests/unit, SQLite and PostgreSQL in tests/integration): programmes, grants, releases on time
and early, a suspension freezing, a reinstatement, revocations, a grant from money given back.
After every step `reconciled` checks every programme's totals, from its own view and from the
services' tranches."""

from datetime import date, datetime

from spc.services.funding import handlers
from spc.services.funding.domain import commands
from spc.shared.messaging.consumer import apply_once
from tests.unit.fakes import standing

NOW = datetime(2027, 3, 1, 9, 30)  # the clock every release is given
DUE, LATER = date(2027, 1, 15), date(2027, 6, 1)  # due already, not yet
RENNES = {"name": "Ville de Rennes", "siret": "21350238800019"}
SERVICES = ("s-ledger-1", "s-ledger-2", "s-ledger-3")


def reconciled(new_uow):
    """Every programme: budget = committed + available, committed = released + scheduled +
    frozen (cancelled given back), and its view agrees with the sums of the services' tranches."""
    programmes = handlers.list_programmes(new_uow())["items"]
    from_tranches = {p["id"]: {} for p in programmes}
    for service_id in SERVICES:
        for grant in handlers.service_funding(new_uow(), service_id)["grants"]:
            sums = from_tranches[grant["programme_id"]]
            for t in grant["tranches"]:
                sums[t["status"]] = sums.get(t["status"], 0) + t["amount_cents"]
    for p in programmes:
        assert p["budget_cents"] == p["committed_cents"] + p["available_cents"], p
        assert p["committed_cents"] == p["released_cents"] + p["scheduled_cents"] + p["frozen_cents"], p
        assert {s: p[f"{s}_cents"] for s in ("scheduled", "released", "frozen", "cancelled")} == {
            s: from_tranches[p["id"]].get(s, 0) for s in ("scheduled", "released", "frozen", "cancelled")
        }, p
    return {p["name"]: (p["committed_cents"], p["available_cents"]) for p in programmes}


def walk(new_uow):
    """Runs the story; returns [(step, {programme name: (committed, available)})]."""
    steps = []

    def step(name):
        steps.append((name, reconciled(new_uow)))

    def follow(service_id, status, version):
        event = standing(service_id, status, version)
        apply_once(new_uow(), event, handlers.EVENT_HANDLERS[event.event_type])

    def grant(programme, service_id, *tranches):
        return handlers.award_grant(
            new_uow(),
            commands.AwardGrant(
                programme["id"],
                service_id,
                [{"amount_cents": cents, "due_date": due, "milestone": f"m{i}"} for i, (cents, due) in enumerate(tranches)],
                "funding_officer/ledger",
            ),
        )["tranches"]

    def release(tranche, evidence=None, reason=None):
        return handlers.release_tranche(
            new_uow(), commands.ReleaseTranche(tranche["id"], "funding_officer/ledger", evidence, reason), now=NOW
        )

    a = handlers.create_programme(
        new_uow(),
        commands.CreateProgramme("A petite enfance", 1_000_000, "funding_officer/ledger", RENNES, "Délibération 2026-0412"),
    )
    b = handlers.create_programme(new_uow(), commands.CreateProgramme("B contract v1", 500_000, "funding_officer/ledger"))
    step("programmes opened")
    for service_id in SERVICES:
        follow(service_id, "active", 2)
    g1 = grant(a, SERVICES[0], (100_000, DUE), (200_000, LATER), (300_000, LATER))
    g2 = grant(b, SERVICES[0], (50_000, DUE), (70_000, LATER))
    g3 = grant(a, SERVICES[1], (150_000, DUE), (250_000, LATER))
    step("grants awarded")
    release(g1[0], evidence="https://petitspas.example.org/pv-ouverture.pdf")
    release(g1[1], reason="opening advanced to February")
    release(g3[0], evidence="CR-AG-2027-02")
    step("released on time and early")
    follow(SERVICES[0], "suspended", 3)
    step("suspension freezes")
    follow(SERVICES[0], "active", 4)
    release(g2[0])
    step("reinstated, released")
    follow(SERVICES[1], "suspended", 3)
    follow(SERVICES[1], "revoked", 4)  # frozen tranches are cancelled too
    step("frozen then revoked")
    follow(SERVICES[0], "revoked", 5)
    follow(SERVICES[0], "active", 4)  # late and older: ignored, nothing given back twice
    step("revoked")
    grant(a, SERVICES[2], (550_000, LATER))  # only possible with the amounts given back
    step("money given back granted again")
    return steps
