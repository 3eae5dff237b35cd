"""France Services agents on the real broker (issue 12): a token scoped to its counters reads their
catalogue and its printable page, rendered here by headless Chromium (Debian's `chromium`), and
relays a visitor's report, which audit records and `spc.events` never carries.

The counters are real ones of the ANCT file (Rennes: 212 and the mobile 1764). With
SPC_CATALOGUE_SCREENSHOT=docs/catalogue-page.png the page test also writes its screenshot there
(docs/catalogue-page.md)."""

import logging
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from spc.generate.examples import BODIES
from spc.services.distribution import anct_csv
from tests.pacts import full_pact
from tests.support import TOKENS_ENV, EventTap, envelope, publish_inbound, wait_for

ROOT = Path(__file__).resolve().parents[2]
AGENT = "t-agent-rennes"  # counter_agent/212+1764
TOKENS = f"{TOKENS_ENV},counter_agent/212+1764:{AGENT},counter_agent/1:t-agent-valserhone"
CRECHE = full_pact(
    **{
        k: BODIES[("registry", "register")][k]
        for k in ("name", "mission", "domains", "territories", "commitments", "contact_email", "referral")
    }
)
ATELIER = full_pact(
    name="L'Atelier vélo du Blosne",
    mission="Atelier participatif où chacun apprend à réparer son vélo ; "
    "vélos d'occasion remis en état pour les personnes sans moyen de transport.",
    domains=["mobilité", "réemploi"],
    territories={"departments": ["35"]},
    contact_email="contact@velo-blosne.example.org",
    referral="Venir sans rendez-vous le mercredi de 14 h à 18 h, 12 rue de Hongrie, Rennes ; adhésion à prix libre.",
    commitments=[
        {"principle": p, "text": t}
        for p, t in {
            "continuity": "Ouvert toute l'année sauf en août ; deux bénévoles au moins à chaque permanence.",
            "equality": "Adhésion à prix libre, dès 1 € ; aucun justificatif demandé.",
            "neutrality": "Aucun message politique ou religieux à l'atelier.",
            "adaptability": "Horaires revus chaque trimestre avec les adhérents.",
            "transparency": "Comptes et dons publiés chaque année sur le panneau de l'atelier.",
            "data_protection": "Seuls le nom et un moyen de contact sont gardés, un an au plus.",
            "no_ad_monetisation": "Aucune publicité ; aucune donnée des adhérents n'est cédée.",
            "governance": "Les adhérents élisent le collège chaque année en assemblée.",
        }.items()
    ],
)
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it; in CI, its absence is a failure)",
)


def _as(token, method, api, path, **kw):
    return requests.request(
        method,
        f"http://127.0.0.1:{api.ports['distribution']}{path}",
        headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})},
        timeout=15,
        **kw,
    )


def _rennes(amqp_uri, api, *pacts):
    """The two counters of the ANCT file in Rennes, and `pacts` registered, approved, listed there."""
    counters = {
        c["counter_id"]: c
        for c in anct_csv.read_counters_file(ROOT / "spc" / "data" / "france-services-2024-08-01.csv")[0]
        if c["counter_id"] in ("212", "1764")
    }
    for counter in counters.values():
        publish_inbound(amqp_uri, envelope("counter.upserted", counter), "counter.upserted")
    sids = []
    for pact in pacts:
        sids.append(api.ok("POST", "registry", "/services", "registrar", pact)["id"])
        api.ok("POST", "registry", f"/services/{sids[-1]}/approve", "registrar")
    wait_for(
        "the services listed at 212",
        lambda: len(api.ok("GET", "distribution", "/counters/212/catalogue")["services"]) == len(pacts),
    )
    return sids


@pytest.fixture
def rennes(cluster_factory, amqp_uri):
    """Registry, distribution and audit, with an agent's token for the Rennes counters."""
    _, api = cluster_factory(names=("registry", "distribution", "audit"), SPC_ADMIN_TOKENS=TOKENS)
    return api


def test_an_agent_reads_its_counters_catalogue_with_what_each_service_commits_to(rennes, amqp_uri):
    [sid] = _rennes(amqp_uri, rennes, CRECHE)
    answer = _as(AGENT, "GET", rennes, "/counters/212/catalogue")
    assert answer.status_code == 200, answer.text
    counter, [service] = answer.json()["counter"], answer.json()["services"]
    assert counter["hours"]["mardi"] == ["14:00-19:15"] and counter["phone"] == "02 99 32 02 58"
    assert (counter["type"], counter["format"], counter["email"]) == ("principal", "fixe", "rennes@pimmsmediation.fr")
    assert service["service_id"] == sid and service["referral"] == CRECHE["referral"]
    assert service["domains"] == ["petite enfance"] and len(service["commitments"]) == 8
    assert _as(AGENT, "GET", rennes, "/counters/1764/catalogue").json()["counter"]["format"] == "itinerante"
    refused = _as("t-agent-valserhone", "GET", rennes, "/counters/212/catalogue")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert rennes.call("GET", "distribution", "/counters/212/catalogue", "viewer").status_code == 200


def test_an_agent_relays_a_visitor_s_report_that_audit_records_and_spc_events_never_carries(rennes, amqp_uri, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="spc")
    [sid] = _rennes(amqp_uri, rennes, CRECHE)
    tap = EventTap(amqp_uri)
    words = f"On m'a refusé l'inscription sans raison {uuid.uuid4().hex[:8]}"
    body = {"service_id": sid, "category": "refused_access", "text": words}
    answer = _as(AGENT, "POST", rennes, "/counters/212/reports", json=body, headers={"Idempotency-Key": "relay-0001"})
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["event_id"]
    assert answer.json() == {"event_id": event_id, "counter_id": "212", "service_id": sid, "category": "refused_access"}
    again = _as(AGENT, "POST", rennes, "/counters/212/reports", json=body, headers={"Idempotency-Key": "relay-0001"})
    assert (again.status_code, again.json()["event_id"]) == (202, event_id)
    assert again.headers["Idempotent-Replayed"] == "true"

    recorded = "SELECT service_id, category, text, counter_id FROM reports WHERE source_event_id = :e"
    wait_for("audit records the report", lambda: _rows(tmp_path / "audit.db", recorded, e=event_id))
    assert _rows(tmp_path / "audit.db", recorded, e=event_id) == [(sid, "refused_access", words, "212")]
    assert _rows(tmp_path / "audit.db", "SELECT count(*) FROM reports") == [(1,)]  # the retry added none
    relays = _rows(tmp_path / "distribution.db", "SELECT * FROM relayed_reports")
    assert [r[:3] for r in relays] == [(event_id, "212", "counter_agent/212+1764")] and words not in repr(relays)

    assert words not in repr(tap.drain(quiet=1.0))
    assert not tap.of_type("usager.report_submitted")
    assert words not in caplog.text and not any(words in repr(r.__dict__) for r in caplog.records)


REFUSED = [  # (path, token, body, status)
    ("/counters/1/reports", AGENT, {"service_id": "s", "category": "other", "text": "x"}, 403),  # not its counter
    ("/counters/212/reports", AGENT, {"service_id": "nobody", "category": "other", "text": "x"}, 404),
    ("/counters/212/reports", AGENT, {"service_id": "s", "category": "rude", "text": "x"}, 400),
    ("/counters/212/reports", AGENT, {"service_id": "s", "category": "other", "text": "x" * 5001}, 400),
    ("/counters/212/reports", AGENT, {"service_id": "s", "category": "other", "text": ""}, 400),
    ("/counters/212/reports", "t-viewer", {"service_id": "s", "category": "other", "text": "x"}, 403),
]


def test_a_relay_outside_the_agent_s_counters_or_badly_formed_is_refused_and_nothing_is_sent(rennes, amqp_uri, tmp_path):
    _rennes(amqp_uri, rennes)
    for path, token, body, status in REFUSED:  # (one cluster for the table)
        answer = _as(token, "POST", rennes, path, json=body)
        assert answer.status_code == status, (path, body, answer.text)
    assert _rows(tmp_path / "distribution.db", "SELECT count(*) FROM outbox WHERE exchange = 'spc.inbound'") == [(0,)]
    assert _rows(tmp_path / "distribution.db", "SELECT count(*) FROM relayed_reports") == [(0,)]


def _rows(db, sql, **params):
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def _chromium(*args, cwd):
    assert CHROMIUM, "chromium is not installed: .ci/run installs Debian's package"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={cwd / 'profile'}",
        *args,
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), len(data)


@needs_chromium
def test_the_printable_page_renders_in_chromium_with_the_counter_and_each_service_s_commitments(rennes, amqp_uri, tmp_path):
    _rennes(amqp_uri, rennes, CRECHE, ATELIER)
    answer = _as(AGENT, "GET", rennes, "/counters/212/catalogue.html")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert _as("t-agent-valserhone", "GET", rennes, "/counters/212/catalogue.html").status_code == 403
    assert rennes.call("GET", "distribution", "/counters/212/catalogue.html", None).status_code == 401
    page = tmp_path / "catalogue.html"  # as served: the page needs the token, which Chromium cannot send
    page.write_bytes(answer.content)

    dom = _chromium("--dump-dom", page.as_uri(), cwd=tmp_path)
    visible = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom.split("<body>", 1)[1]))
    for expected in (
        "France services Pimms Médiation Rennes",
        "47 avenue des Pays-Bas Le Quadri 35200 Rennes",
        "Horaires d'ouverture",
        "Mardi 14 h – 19 h 15",
        "Samedi fermé",
        "02 99 32 02 58",
        "Mobilité",
        "Petite enfance",
        "Crèche parentale Les Petits Pas",
        "L'Atelier vélo du Blosne",
        "Orienter une personne",
        "Ses engagements",
        "Continuité",
        "Ouverte 50 semaines par an, de 7 h 30 à 19 h",
        "Ni publicité ni revente de données",
        "Adhésion à prix libre, dès 1 €",
    ):
        assert expected in visible, expected
    assert visible.index("Mobilité") < visible.index("Petite enfance")  # by domain, in alphabetical order
    assert "<script" not in dom

    shot = tmp_path / "catalogue.png"
    _chromium(f"--screenshot={shot}", "--window-size=1000,1500", "--hide-scrollbars", page.as_uri(), cwd=tmp_path)
    width, height, size = _png_size(shot)
    assert (width, height) == (1000, 1500) and size > 40_000, (width, height, size)  # text, not a blank page
    pdf = tmp_path / "catalogue.pdf"
    _chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri(), cwd=tmp_path)
    document = pdf.read_bytes()
    assert document.startswith(b"%PDF") and re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", document)  # A4
    if os.environ.get("SPC_CATALOGUE_SCREENSHOT"):
        shutil.copy(shot, ROOT / os.environ["SPC_CATALOGUE_SCREENSHOT"])
