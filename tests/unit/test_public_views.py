"""What the public read API shows, on in-memory units of work: a service's pact and its standing
in plain words (the principle at stake and since when), its money and whether it is suspended in
one answer, the counters and their catalogues; never an e-mail address or a person's name."""

import json
import re
from datetime import date, datetime, timezone

import pytest

from spc.services.distribution import handlers as distribution
from spc.services.distribution import public as public_distribution
from spc.services.funding import handlers as funding
from spc.services.funding import public as public_funding
from spc.services.funding.domain import commands as funding_commands
from spc.services.registry import handlers as registry
from spc.services.registry import public as public_registry
from spc.services.registry.domain import commands
from spc.services.registry.domain.pact import Pact
from spc.shared.core import envelope, events
from spc.shared.messaging.consumer import apply_once
from spc.shared.core.errors import NotFound
from tests.pacts import full_pact
from tests.unit.fakes import FakeDistributionUnitOfWork, FakeFundingUnitOfWork, FakeRegistryUnitOfWork, standing, wire

EMAIL = re.compile(r"[^\s\"@]+@[^\s\"@]+\.[a-z]+")
AT = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def at(event_type, payload, when=AT):
    """An event as consumed, that happened at `when`."""
    event = envelope.Event(event_type, payload, events.producer_of(event_type) or "test-suite", occurred_at=when)
    return envelope.parse(envelope.to_bytes(event), event_type)


def decide(uow, sid, audit_version, open_violations, principle, kind="confirmed", when=AT):
    event = at(
        f"audit.violation_{kind}",
        {
            "finding_id": f"f-{audit_version}",
            "service_id": sid,
            "open_violations": open_violations,
            "audit_version": audit_version,
            "principle": principle,
        },
        when,
    )
    apply_once(uow, event, registry.EVENT_HANDLERS[event.event_type])


@pytest.fixture
def reg():
    return FakeRegistryUnitOfWork()


def active(uow, **over):
    sid = registry.register_service(uow, commands.RegisterService(Pact.from_dict(full_pact(**over)), "r/x"))["id"]
    registry.approve_service(uow, commands.ApproveService(sid, "r/x"))
    return sid


def test_the_public_view_of_a_service_shows_its_pact_and_no_personal_data(reg):
    sid = active(reg)
    view = public_registry.public_service(reg, sid)
    assert view["status"] == "active" and view["standing"] == "active" and view["suspension"] is None
    assert len(view["commitments"]) == 8 and all(c["text"] for c in view["commitments"])
    assert view["pact"]["public_counterpart"] == {
        "name": "Préfecture d'Ille-et-Vilaine (ministère de l'Intérieur)",
        "kind": "state",
    }
    assert view["pact"]["complete"] and view["pact"]["ends_on"] and view["pact"]["version"] == 1
    text = json.dumps(view, ensure_ascii=False)
    assert not EMAIL.search(text) and "Claire Martin" not in text and "Yann Le Goff" not in text


def test_a_suspension_says_since_when_and_the_principle_at_stake_in_plain_words(reg):
    sid = active(reg)
    decide(reg, sid, 1, 1, "neutrality")
    view = public_registry.public_service(reg, sid)
    assert view["standing"] == "suspended since 2026-11-20: a violation of neutrality is open"
    assert view["suspension"] == {"since": "2026-11-20T09:30:00+00:00", "principle": "neutrality", "open_violations": 1}
    assert registry.get_service(reg, sid)["status_reason"].startswith("a violation of neutrality is open")
    decide(reg, sid, 2, 2, "data_protection", when=datetime(2026, 11, 22, tzinfo=timezone.utc))
    assert public_registry.public_service(reg, sid)["standing"] == (
        "suspended since 2026-11-20: a violation of neutrality is open (and 1 other violation)"
    )
    decide(reg, sid, 3, 1, "neutrality", "resolved")  # the cause resolved; another remains
    assert public_registry.public_service(reg, sid)["standing"] == "suspended since 2026-11-20: a violation is open"
    decide(reg, sid, 4, 0, "data_protection", "resolved")
    view = public_registry.public_service(reg, sid)
    assert view["standing"] == "active" and view["suspension"] is None


def test_a_service_only_submitted_is_not_public(reg):
    submitted = registry.register_service(reg, commands.RegisterService(Pact.from_dict(full_pact()), "r/x"))["id"]
    sid = active(reg, name="Ludothèque Les Dés")
    with pytest.raises(NotFound):
        public_registry.public_service(reg, submitted)
    assert [s["id"] for s in public_registry.public_services(reg)["items"]] == [sid]
    assert public_registry.public_services(reg, status="suspended")["total"] == 0


@pytest.fixture
def fund():
    return FakeFundingUnitOfWork()


def test_one_answer_says_how_much_the_service_received_and_since_when_it_is_suspended(fund):
    apply_once(fund, standing("s1", "active", 2), funding.on_service_standing)
    prog = funding.create_programme(fund, funding_commands.CreateProgramme("Petite enfance", 1_000_000, "fo/x"))
    grant = funding.award_grant(
        fund,
        funding_commands.AwardGrant(
            prog["id"],
            "s1",
            [{"amount_cents": 100_000, "due_date": date(2026, 1, 15)}, {"amount_cents": 50_000, "due_date": date(2026, 6, 15)}],
            "fo/x",
        ),
    )
    funding.release_tranche(
        fund, funding_commands.ReleaseTranche(grant["tranches"][0]["id"], "fo/x", None, None), now=datetime(2026, 2, 1)
    )
    suspended = at(
        "registry.service_suspended",
        {
            "service_id": "s1",
            "name": "Crèche",
            "status": "suspended",
            "version": 3,
            "territories": {"departments": ["35"]},
            "reason": "a violation of neutrality is open (finding f-1)",
        },
    )
    apply_once(fund, suspended, funding.on_service_standing)
    view = public_funding.public_funding(fund, "s1")
    assert (view["status"], view["suspended_since"], view["frozen"]) == ("suspended", "2026-11-20T09:30:00+00:00", True)
    assert view["reason"] == "a violation of neutrality is open (finding f-1)"
    assert (view["awarded_cents"], view["released_cents"], view["frozen_cents"]) == (150_000, 100_000, 50_000)
    assert [t["status"] for t in view["grants"][0]["tranches"]] == ["released", "frozen"]
    assert "released_by" not in json.dumps(view) and "fo/x" not in json.dumps(view)


def test_a_service_funding_never_heard_of_is_unknown_with_nothing(fund):
    view = public_funding.public_funding(fund, "nobody")
    assert view["status"] == "unknown" and view["awarded_cents"] == 0 and view["suspended_since"] is None


def test_the_public_catalogue_leaves_out_e_mails_and_referrals():
    uow = FakeDistributionUnitOfWork()
    apply_once(
        uow,
        wire(
            "counter.upserted",
            {
                "counter_id": "212",
                "name": "France services Rennes",
                "commune_insee": "35238",
                "department": "35",
                "address": "",
                "email": "rennes@example.org",
                "phone": "02 99 32 02 58",
            },
        ),
        distribution.COUNTER_HANDLERS["counter.upserted"],
    )
    apply_once(
        uow,
        wire(
            "registry.service_approved",
            {
                "service_id": "s1",
                "name": "Crèche",
                "status": "active",
                "version": 2,
                "territories": {"departments": ["35"]},
                "contact_email": "bureau@lutins.example.org",
                "referral": "Écrire à bureau@lutins.example.org",
            },
        ),
        distribution.STANDING_HANDLERS["registry.service_approved"],
    )
    catalogue = public_distribution.public_catalogue(uow, "212")
    assert catalogue["counter"]["phone"] == "02 99 32 02 58"
    assert [s["service_id"] for s in catalogue["services"]] == ["s1"]
    counters = public_distribution.public_counters(uow)
    assert counters["total"] == 1 and not EMAIL.search(json.dumps([catalogue, counters]))
