"""What France Services agents read and relay (issue 12), on SQLite and PostgreSQL: the counters'
details and the services' profiles round-trip through their columns; a relayed report is one
transaction (the outbox row for spc.inbound and the record of the relay, never the text), and the
row keeps no body once the relay has published it."""

import json

import pytest
from sqlalchemy import select

from spc.runtime.fleet import spec
from spc.services.distribution import handlers, orm
from spc.shared.web.auth import Actor
from spc.shared.web.edge import serve
from spc.shared.core.envelope import Event
from spc.shared.web.http import Call
from spc.shared.sql.outbox import OutboxRelay
from spc.shared.sql.persistence import transaction_lock

HOURS = {"lundi": ["09:00-12:30", "14:00-17:15"], "samedi": ["09:30-12:15"]}
COMMITMENTS = [{"principle": "continuity", "text": "Ouverte 50 semaines par an."}, {"principle": "equality", "text": None}]
WORDS = "On m'a refusé l'inscription sans raison."


class RecordingPublisher:
    def __init__(self):
        self.messages = []

    def publish_many(self, messages):
        self.messages += messages
        return len(messages)


@pytest.fixture
def distribution(db_url):
    database = spec("distribution").open(db_url)
    handlers.import_counters(
        database.uow(),
        [
            {
                "counter_id": "212",
                "name": "France services Pimms Médiation Rennes",
                "commune_insee": "35238",
                "department": "35",
                "address": "47 avenue des Pays-Bas 35200 Rennes",
                "type": "principal",
                "email": "rennes@pimmsmediation.fr",
                "phone": "02 99 32 02 58",
                "hours": HOURS,
                "note": "Le Quadri",
            }
        ],
    )
    with database.uow() as u:
        handlers.on_service_standing(
            u,
            Event(
                "registry.service_approved",
                {
                    "service_id": "s1",
                    "name": "Crèche",
                    "status": "active",
                    "version": 2,
                    "territories": {"departments": ["35"]},
                    "mission": "Accueil de jeunes enfants",
                    "domains": ["petite enfance"],
                    "contact_email": "bureau@example.org",
                    "referral": "Appeler le 02 99 00 00 00",
                    "commitments": COMMITMENTS,
                },
                "t",
            ),
        )
        u.commit()
    yield database
    database.close()


def test_the_counter_s_details_and_the_service_s_profile_come_back_from_the_database(distribution):
    catalogue = handlers.counter_catalogue(distribution.uow(), "212")
    counter, [service] = catalogue["counter"], catalogue["services"]
    assert (counter["hours"], counter["type"], counter["phone"], counter["note"]) == (
        HOURS,
        "principal",
        "02 99 32 02 58",
        "Le Quadri",
    )
    assert service == {
        "service_id": "s1",
        "name": "Crèche",
        "mission": "Accueil de jeunes enfants",
        "domains": ["petite enfance"],
        "contact_email": "bureau@example.org",
        "referral": "Appeler le 02 99 00 00 00",
        "commitments": COMMITMENTS,
    }


def test_a_relayed_report_is_written_for_spc_inbound_with_its_record_and_loses_its_body_once_sent(distribution):
    call = Call(Actor("counter_agent", "212"), correlation_id="corr-relay")
    answer = handlers.relay_report(
        serve(distribution.uow(), call), "212", {"service_id": "s1", "category": "refused_access", "text": WORDS}
    )
    with distribution.engine.connect() as conn:
        [row] = conn.execute(select(orm.outbox).where(orm.outbox.c.exchange == "spc.inbound")).all()
        relays = conn.execute(select(orm.relayed_reports)).all()
    assert (row.event_id, row.event_type) == (answer["event_id"], "usager.report_submitted")
    sent = json.loads(row.body)
    assert sent["payload"] == {"service_id": "s1", "category": "refused_access", "text": WORDS, "counter_id": "212"}
    assert (sent["actor"], sent["correlation_id"]) == ("counter_agent/212", "corr-relay")
    assert [(r.event_id, r.counter_id, r.relayed_by) for r in relays] == [(answer["event_id"], "212", "counter_agent/212")]

    publisher = RecordingPublisher()
    relay = OutboxRelay(distribution.engine, orm.outbox, publisher, transaction_lock(distribution.engine))
    assert relay.drain() >= 2  # the listing published at 212, then the report
    [message] = [m for m in publisher.messages if m["exchange"] == "spc.inbound"]
    assert message["routing_key"] == "usager.report_submitted" and WORDS in message["body"].decode()
    assert all(m["exchange"] == "spc.events" for m in publisher.messages if m is not message)
    with distribution.engine.connect() as conn:
        rows = conn.execute(select(orm.outbox.c.exchange, orm.outbox.c.body, orm.outbox.c.published_at)).all()
    assert all(r.published_at is not None for r in rows)
    assert [r.body for r in rows if r.exchange == "spc.inbound"] == ["{}"]
    assert all(json.loads(r.body)["payload"] for r in rows if r.exchange == "spc.events")  # those are kept
