"""What a France Services agent sees and does (issue 12), on an in-memory unit of work: the counter
as the ANCT directory describes it, each listed service with what its standing carries, the
printable page, and a visitor's report relayed to audit through the outbox."""

from datetime import date

import pytest
from marshmallow import ValidationError

from spc.services.distribution import anct_csv, handlers, page
from spc.services.distribution.schemas import CounterOut
from spc.shared.core import events
from spc.shared.messaging.consumer import apply_once
from spc.shared.web.edge import serve
from spc.shared.core.errors import NotFound
from spc.shared.web.http import Call
from spc.shared.web.auth import Actor
from tests.pacts import TEXTS
from tests.unit.fakes import FakeDistributionUnitOfWork, wire

HOURS = {"lundi": ["09:00-12:30", "14:00-17:15"], "mardi": ["14:00-19:15"], "jeudi": ["14:00-17:15"]}
COUNTER = {
    "counter_id": "212",
    "name": "France services Pimms Médiation Rennes",
    "commune_insee": "35238",
    "department": "35",
    "address": "47 avenue des Pays-Bas Le Quadri 35200 Rennes",
    "format": "fixe",
    "type": "principal",
    "email": "rennes@pimmsmediation.fr",
    "phone": "02 99 32 02 58",
    "hours": HOURS,
}
PROFILE = {
    "mission": "Accueil de jeunes enfants géré par les parents.",
    "domains": ["petite enfance", "parentalité"],
    "contact_email": "bureau@lutins.example.org",
    "referral": "Appeler le 02 99 00 00 00, lun.–ven. 9 h–12 h.",
    "commitments": [{"principle": p, "text": TEXTS[p]} for p in events.PRINCIPLES],
}


def standing(sid, version=2, status="active", name="Crèche Les Lutins", **profile):
    return wire(
        "registry.service_approved",
        {
            "service_id": sid,
            "name": name,
            "status": status,
            "version": version,
            "territories": {"departments": ["35"]},
            **profile,
        },
    )


def follow(uow, event):
    apply_once(uow, event, handlers.STANDING_HANDLERS[event.event_type])


@pytest.fixture
def uow():
    uow = FakeDistributionUnitOfWork()
    apply_once(uow, wire("counter.upserted", COUNTER), handlers.COUNTER_HANDLERS["counter.upserted"])
    return uow


def agent_call(counter_id="212"):
    return Call(Actor("counter_agent", counter_id), correlation_id="corr-1")


def test_the_catalogue_gives_the_counter_as_the_directory_describes_it(uow):
    counter = handlers.counter_catalogue(uow, "212")["counter"]
    assert counter["hours"] == HOURS and counter["type"] == "principal" and counter["format"] == "fixe"
    assert (counter["phone"], counter["email"], counter["note"]) == ("02 99 32 02 58", "rennes@pimmsmediation.fr", None)


def test_an_upsert_without_the_details_makes_them_unknown_again(uow):
    bare = {k: v for k, v in COUNTER.items() if k not in ("type", "email", "phone", "hours")}
    apply_once(uow, wire("counter.upserted", bare), handlers.COUNTER_HANDLERS["counter.upserted"])
    counter = handlers.counter_catalogue(uow, "212")["counter"]
    assert [counter[k] for k in ("type", "email", "phone", "hours")] == [None, None, None, None]


def test_each_listed_service_shows_what_its_newest_standing_carries(uow):
    follow(uow, standing("s1", **PROFILE))
    follow(uow, standing("s1", version=1, mission="an older text"))  # stale: ignored
    [service] = handlers.counter_catalogue(uow, "212")["services"]
    assert service["mission"] == PROFILE["mission"] and service["domains"] == PROFILE["domains"]
    assert service["referral"] == PROFILE["referral"] and service["contact_email"] == "bureau@lutins.example.org"
    assert service["commitments"] == PROFILE["commitments"]
    follow(uow, standing("s1", version=3, **dict(PROFILE, referral="Écrire à bureau@lutins.example.org.")))
    assert handlers.counter_catalogue(uow, "212")["services"][0]["referral"] == "Écrire à bureau@lutins.example.org."


def test_a_contract_v1_standing_lists_the_service_with_an_empty_profile(uow):
    follow(uow, standing("s1"))
    [service] = handlers.counter_catalogue(uow, "212")["services"]
    assert (service["mission"], service["domains"], service["commitments"], service["referral"]) == (None, [], [], None)


def test_a_suspended_service_leaves_the_catalogue(uow):
    follow(uow, standing("s1", **PROFILE))
    follow(uow, standing("s1", version=3, status="suspended", **PROFILE))
    assert handlers.counter_catalogue(uow, "212")["services"] == []


# ---- relaying a visitor's report -------------------------------------------------------------
REPORT = {"service_id": "s1", "category": "refused_access", "text": "On m'a refusé l'inscription sans raison."}


def test_a_relayed_report_goes_to_the_outbox_for_spc_inbound_with_the_counter(uow):
    follow(uow, standing("s1", **PROFILE))
    before = len(uow.outbox.events)
    answer = handlers.relay_report(serve(uow, agent_call()), "212", dict(REPORT))
    [event], [exchange] = uow.outbox.events[before:], uow.outbox.exchanges[before:]
    assert (event.event_type, exchange) == ("usager.report_submitted", "spc.inbound")
    assert event.payload == dict(REPORT, counter_id="212")
    assert event.actor == "counter_agent/212" and event.correlation_id == "corr-1"
    assert answer == {"event_id": str(event.event_id), "counter_id": "212", "service_id": "s1", "category": "refused_access"}
    assert "spc.events" not in uow.outbox.exchanges[before:]


def test_the_relay_is_recorded_without_the_text(uow):
    follow(uow, standing("s1", **PROFILE))
    answer = handlers.relay_report(serve(uow, agent_call()), "212", dict(REPORT))
    [relay] = uow.distribution.relays
    assert (relay.event_id, relay.counter_id, relay.relayed_by) == (answer["event_id"], "212", "counter_agent/212")
    assert REPORT["text"] not in repr(relay)


def test_a_report_about_a_service_not_listed_at_the_counter_is_relayed_too(uow):
    follow(
        uow,
        wire(
            "registry.service_approved",
            {"service_id": "s29", "name": "Ailleurs", "status": "active", "version": 2, "territories": {"departments": ["29"]}},
        ),
    )
    handlers.relay_report(serve(uow, agent_call()), "212", dict(REPORT, service_id="s29"))
    assert uow.outbox.events[-1].payload["service_id"] == "s29"


@pytest.mark.parametrize("counter_id, service_id", [("fs-404", "s1"), ("212", "nobody")])
def test_a_report_naming_an_unknown_counter_or_service_is_refused_and_nothing_is_written(uow, counter_id, service_id):
    follow(uow, standing("s1", **PROFILE))
    before = len(uow.outbox.events)
    with pytest.raises(NotFound):
        handlers.relay_report(serve(uow, agent_call()), counter_id, dict(REPORT, service_id=service_id))
    assert len(uow.outbox.events) == before and uow.distribution.relays == []


def test_only_an_inbound_event_can_be_relayed(uow):
    with pytest.raises(ValueError, match="not an inbound event"):
        uow.relay_inbound("distribution.listing_published", {"service_id": "s1", "counter_ids": []})


# ---- the ANCT file and the event -------------------------------------------------------------
ANCT_HEADER = (
    '"id_fs","insee_dep","lib_fs","adresse","complement_adresse","insee_com","code_postal","lib_com",'
    '"latitude","longitude","mail","telephone","h_lundi","h_mardi","h_mercredi","h_jeudi","h_vendredi",'
    '"h_samedi","prise_rdv","commentaire","type_fs","format_fs","groupe_fs","labellisation_fs"\n'
)


def test_the_import_keeps_type_contacts_hours_and_remark_on_one_line():
    row = (
        '"77","35","France services Test","27 Avenue Robert Schuman\n\n\n",,"35238","35000","Rennes",48.1,-1.6,'
        '"fs@example.org","02 99 00 00 01","09:00 - 12:00 / 13:30 - 17:00",,"9h00 - 12h00",,,"09:00 - 12:00",'
        '"Oui","Sur rendez-vous\nle mercredi","Antenne","Fixe",,""\n'
    )
    [counter], problems = anct_csv.read_counters_text(ANCT_HEADER + row)
    assert problems == []
    assert counter["address"] == "27 Avenue Robert Schuman 35000 Rennes"
    assert counter["hours"] == {"lundi": ["09:00-12:00", "13:30-17:00"], "mercredi": ["09:00-12:00"], "samedi": ["09:00-12:00"]}
    assert (counter["type"], counter["email"], counter["phone"]) == ("antenne", "fs@example.org", "02 99 00 00 01")
    assert counter["note"] == "Sur rendez-vous le mercredi"


def test_every_counter_of_the_2024_file_is_read_with_its_details():
    counters, problems = anct_csv.read_counters_file(anct_csv_path())
    assert problems == [] and len(counters) == 2845
    assert sum(1 for c in counters if c["hours"]) > 2700
    assert {c["type"] for c in counters} == {"principal", "antenne"}


def anct_csv_path():
    from pathlib import Path

    return Path(anct_csv.__file__).resolve().parents[2] / "spc" / "data" / "france-services-2024-08-01.csv"


@pytest.mark.parametrize(
    "field, value",
    [
        ("hours", {"lundi": ["9h-12h"]}),
        ("hours", {"monday": ["09:00-12:00"]}),
        ("hours", {"lundi": []}),
        ("type", "annexe"),
        ("phone", "0" * 31),
        ("email", "x" * 201),
    ],
)
def test_counter_upserted_refuses_details_of_the_wrong_shape(field, value):
    schema = events.payload_schema("counter.upserted")
    with pytest.raises(ValidationError) as refused:
        schema.load(dict(COUNTER, **{field: value}))
    assert field in refused.value.messages


# ---- the printable page ----------------------------------------------------------------------
def test_the_page_groups_services_by_their_first_domain_and_escapes_every_text(uow):
    follow(uow, standing("s1", **PROFILE))
    follow(
        uow,
        standing("s2", name="<script>alert(1)</script> Repair café", mission="Réparer & réutiliser", domains=["environnement"]),
    )
    follow(uow, standing("s3", name="Épicerie solidaire"))
    html = page.render(handlers.counter_catalogue(uow, "212"), today=date(2026, 12, 1))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Repair café" in html
    assert "Réparer &amp; réutiliser" in html
    headings = [h.split("</h2>")[0] for h in html.split("<h2>")[1:]]
    assert headings == ["Environnement", "Petite enfance", "Autres services"]
    assert "Aussi : Parentalité" in html and "état au 1er décembre 2026" in html


def test_the_page_says_the_counter_s_hours_and_the_service_s_commitments_in_french(uow):
    follow(uow, standing("s1", **PROFILE))
    html = page.render(handlers.counter_catalogue(uow, "212"))
    for text in (
        "Horaires d'ouverture",
        "<th>Lundi</th><td>9 h – 12 h 30, 14 h – 17 h 15</td>",
        '<th>Mercredi</th><td><span class="closed">fermé</span>',
        "Téléphone : 02 99 32 02 58",
        "Orienter une personne",
        "Ses engagements",
        "<dt>Continuité</dt>",
        "<dt>Ni publicité ni revente de données</dt>",
        "France services — structure principale, accueil fixe",
    ):
        assert text in html, text
    assert "Dimanche" not in html and "@page { size: A4" in html and "<script" not in html


def test_a_page_without_services_or_hours_says_so():
    html = page.render({"counter": CounterOut().dump(_bare_counter()), "services": []})
    assert "Aucun service n'est proposé à ce guichet" in html and "Non communiqués." in html


def _bare_counter():
    from spc.services.distribution.domain.model import Counter

    return Counter("fs-x", "Espace", "35238", "35")


def test_the_page_answer_is_html_that_may_run_no_script(uow):
    response = page.as_response(handlers.counter_catalogue(uow, "212"))
    assert response.mimetype == "text/html" and response.charset == "utf-8"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
