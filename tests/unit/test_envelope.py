"""The envelope parser gives each bad message its contract reason code."""

import json

import pytest

from spc.shared.core import envelope, events
from spc.shared.core.errors import Rejection
from tests.support import envelope as env

GOOD = env(
    "compliance.violation_reported",
    {"service_id": "s1", "principle": "equality", "severity": "major", "summary": "x", "reported_by": "y"},
)


def raw(**over):
    doc = dict(GOOD, **over)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "body,code",
    [
        (b"\xff\xfe", "invalid_json"),
        (b"{", "invalid_json"),
        (b"[1]", "invalid_json"),
        (b"{" + b" " * 70_000 + b"}", "too_large"),
        (raw(event_id="not-a-uuid"), "schema_error:event_id"),
        (raw(schema_version="1"), "schema_error:schema_version"),
        (raw(occurred_at="2026-11-25T10:00:00"), "schema_error:occurred_at"),
        (raw(event_type="weather.changed"), "unknown_event_type"),
        (raw(schema_version=2), "unsupported_version"),
        (raw(payload={**GOOD["payload"], "severity": "apocalyptic"}), "schema_error:payload.severity"),
        (raw(payload={**GOOD["payload"], "evidence_url": "http://x.fr"}), "schema_error:payload.evidence_url"),
    ],
)
def test_bad_messages_are_rejected_with_their_reason(body, code):
    with pytest.raises(Rejection) as err:
        envelope.parse(body)
    assert err.value.code == code


def test_a_good_message_parses():
    event = envelope.parse(raw(), routing_key="compliance.violation_reported")
    assert event.payload["severity"] == "major" and event.producer == "test-suite"


def test_the_routing_key_must_match_the_event_type():
    with pytest.raises(Rejection):
        envelope.parse(raw(), routing_key="usager.report_submitted")


RELEASED = {"tranche_id": "t1", "grant_id": "g1", "service_id": "s1", "amount_cents": 100, "currency": "EUR"}


@pytest.mark.parametrize(
    "event_type,producer",
    [
        ("registry.service_reinstated", "funding"),  # unfreezing money, claimed by another service
        ("funding.tranche_released", "registry"),  # a payment order
        ("audit.violation_resolved", "distribution"),
        ("registry.service_approved", "audit"),
        ("funding.tranche_released", "test-suite"),  # nobody outside SPC produces SPC's events
        ("compliance.violation_reported", "registry"),  # an inbound type no SPC service relays
        ("usager.report_submitted", "audit"),  # relayed by distribution only
    ],
)
def test_an_event_from_the_wrong_producer_is_refused_with_its_reason(event_type, producer):
    doc = env(event_type, {}, producer=producer)
    with pytest.raises(Rejection) as err:
        envelope.parse(json.dumps(doc).encode(), routing_key=event_type)
    assert err.value.code == "wrong_producer", err.value.header


def test_each_outbound_type_comes_from_the_service_it_is_named_after_and_relays_from_theirs():
    for entry in events.event_types():
        if entry.inbound:
            assert entry.producer is None and set(entry.relayed_by) <= set(events.SERVICES)
            assert entry.refuses_producer("ext-anything") is None
            for service in entry.relayed_by:
                assert entry.refuses_producer(service) is None
        else:
            assert entry.producer in events.SERVICES and entry.name.startswith(entry.producer + ".")
            assert entry.refuses_producer(entry.producer) is None
    assert events.entry("usager.report_submitted").relayed_by == ("distribution",)


WORDS = "Ma fille Léa Martin, 4 ans, a été refusée sans motif"


def test_a_citizens_words_are_withheld_from_what_operators_list():
    doc = env("usager.report_submitted", {"service_id": "s1", "category": "refused_access", "text": WORDS})
    shown = events.redacted(doc)
    assert shown["payload"]["text"] == f"[redacted: {len(WORDS)} characters]"
    assert shown["payload"]["category"] == "refused_access" and doc["payload"]["text"] == WORDS  # a copy
    assert events.personal_fields("usager.report_submitted") == ("text",)
    # a type this SPC does not know: every text withheld
    assert events.redacted(env("usager.report_v9", {"words": WORDS, "n": 3}))["payload"] == {
        "words": f"[redacted: {len(WORDS)} characters]",
        "n": 3,
    }
    # a known type at a version this SPC does not know (dead-lettered unsupported_version), and a
    # payload that is not an object
    later = env("usager.report_submitted", {"service_id": "s1", "text": WORDS}, version=7)
    assert events.redacted(later)["payload"]["text"] == f"[redacted: {len(WORDS)} characters]"
    assert events.redacted(dict(doc, payload=[WORDS]))["payload"] == "[redacted: list]"


def test_a_rejection_names_the_field_never_its_words():
    for payload in (
        {"service_id": "s1", "category": "refused_access", "text": WORDS * 100},  # too long
        {"service_id": "s1", "category": WORDS, "text": WORDS},
    ):  # not a category
        with pytest.raises(Rejection) as err:
            envelope.parse(json.dumps(env("usager.report_submitted", payload)).encode())
        assert err.value.code.startswith("schema_error:payload.") and "Léa" not in err.value.header, err.value.header


def test_the_dead_letter_listing_shows_no_personal_text():
    from spc.cli.operations import _excerpt

    body = json.dumps(env("usager.report_submitted", {"service_id": "s1", "category": "other", "text": WORDS}))
    assert "Léa" not in _excerpt(body.encode()) and "redacted" in _excerpt(body.encode())
    assert _excerpt(b"{" + WORDS.encode()) == f"[not JSON: {len(WORDS.encode()) + 1} bytes withheld]"


@pytest.mark.parametrize(
    "uri,ssl_options,login",
    [
        ("amqp://spc-funding:pw@rabbitmq:5672/spc", None, "spc-funding"),
        ("amqps://spc%2Dx%40y:pw@rabbitmq:5671/spc;amqps://other:pw@b:5671/spc", {}, "spc-x@y"),
        ("amqp://rabbitmq:5672/", None, "guest"),  # kombu's default login
        ("amqps://rabbitmq:5671/", {"certfile": "c.pem"}, None),  # x509: the certificate's name
        ("memory://", None, None),
    ],
)
def test_a_publisher_signs_with_the_login_the_broker_will_check(uri, ssl_options, login):
    from spc.shared.messaging.broker import amqp_login

    assert amqp_login(uri, ssl_options) == login


def test_only_the_queues_own_consumer_is_trusted_to_have_dead_lettered_a_message():
    from types import SimpleNamespace as Props
    from spc.cli.operations import dead_letter_trust, trusted_logins

    logins = trusted_logins("amqp://spc-operator:pw@rabbitmq/spc", {"FUNDING_AMQP_URI": "amqp://fund-7:pw@r/spc"})
    assert logins["funding"] == {"spc-funding", "fund-7", "spc-operator"}
    assert logins["registry"] == {"spc-registry", "spc-operator"}
    named = {"x-spc-queue": "distribution.events"}
    assert dead_letter_trust(Props(headers=named, user_id="spc-distribution"), logins) == "verified"
    assert dead_letter_trust(Props(headers=named, user_id="fund-7"), logins) == "forged"
    assert dead_letter_trust(Props(headers={"x-spc-queue": "ext.payments.orders"}, user_id="spc-funding"), logins) == "forged"
    assert dead_letter_trust(Props(headers=named, user_id=None), logins) == "unverified"
    assert (
        dead_letter_trust(Props(headers={"x-death": [{"queue": "funding.events"}]}, user_id="spc-registry"), logins)
        == "unverified"
    )
