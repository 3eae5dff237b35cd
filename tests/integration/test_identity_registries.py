"""The identity port's adapter (services/registry/registries.py) against API Recherche
d'entreprises as the tests run it (spc/standins/registries.py), over real HTTP: each outcome,
a 429's Retry-After honoured, a timeout, an outage opening the breaker, and its rate limit."""

import pytest

from spc.services.registry.domain import identity
from spc.services.registry.domain.identity import RegistryUnavailable
from spc.services.registry.registries import RechercheEntreprises
from spc.standins.registries import RegistriesServer, unit

SIREN, CLOSED, COMPANY = "552100554", "732829320", "542107651"


@pytest.fixture
def api():
    server = RegistriesServer(
        [unit(SIREN, rna="W353012345"), unit(CLOSED, state="C"), unit(COMPANY, name="SAS X", nature="5710", association=False)]
    )
    yield server
    server.close()


def adapter(api, **options):
    counted = []
    client = RechercheEntreprises(api.url, count=counted.append, **options)
    return client, counted


def test_each_outcome_from_the_registry_s_answers(api):
    client, counted = adapter(api)
    check = lambda form, siren, rna=None: identity.check(client, form, siren, rna)  # noqa: E731
    assert check("association", SIREN, "W353012345").outcome == "verified"
    assert check("association", CLOSED).fields == {"etat_administratif": "ceased (C): the unit is closed"}
    assert check("association", COMPANY).outcome == "mismatch"
    assert check("company", COMPANY).outcome == "verified"
    assert check("association", "356000000").outcome == "not_found"
    assert counted == ["found", "found", "found", "found", "not_found"]
    assert {q["per_page"] for _, q in api.requests} == {"5"}  # within the API's 25


def test_a_429_is_honoured_for_its_retry_after_without_asking(api):
    now = [100.0]
    client, counted = adapter(api, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    api.mode, api.retry_after = "limited", "30"
    with pytest.raises(RegistryUnavailable, match="429"):
        client.unit(SIREN)
    api.mode = "ok"
    now[0] += 29
    with pytest.raises(RegistryUnavailable, match="not asked"):
        client.unit(SIREN)
    assert len(api.requests) == 1
    now[0] += 2
    assert client.unit(SIREN).siren == SIREN
    assert counted == ["limited", "open", "found"]


def test_a_slow_answer_times_out_and_an_outage_opens_the_breaker(api):
    client, counted = adapter(api, timeout=0.3, failures_to_open=3, open_seconds=60)
    api.delay = 1.0
    with pytest.raises(RegistryUnavailable, match="unreachable"):
        client.unit(SIREN)
    api.delay, api.mode = 0.0, "failing"
    for _ in range(2):
        with pytest.raises(RegistryUnavailable, match="answered 500"):
            client.unit(SIREN)
    asked = len(api.requests)
    api.mode = "ok"
    with pytest.raises(RegistryUnavailable, match="not asked"):  # open: the API is left alone a while
        client.unit(SIREN)
    assert len(api.requests) == asked and counted == ["failed", "failed", "failed", "open"]
    assert identity.check(client, "association", SIREN, None).outcome == "unverified"


def test_at_most_seven_requests_a_second(api):
    client, _ = adapter(api)
    for _ in range(15):
        client.unit(SIREN)
    times = [t for t, _ in api.requests]
    assert times[-1] - times[0] >= 14 / 7 - 0.05  # 15 requests: 14 intervals of 1/7 s at least


def test_an_association_known_only_by_its_rna_is_checked_against_api_entreprise():
    from spc.standins.registries import association
    from spc.services.registry.registries import ApiEntreprise, NationalRegistries

    server = RegistriesServer(associations=[association("W353012345"), association("W353099999", active=False)])
    try:
        counted = []
        rna = ApiEntreprise(server.token, "13002526500013", server.url, count=counted.append)
        registries = NationalRegistries(None, rna)
        check = lambda r: identity.check(registries, "association", None, r)  # noqa: E731
        assert (check("W353012345").outcome, check("W353012345").source) == ("verified", "api-entreprise")
        assert check("W353099999").fields == {"etat_administratif": "ceased (C): the unit is closed"}
        assert check("W353000000").outcome == "not_found"
        assert {q["recipient"] for _, q in server.requests} == {"13002526500013"}
        assert identity.check(registries, "association", SIREN, None).outcome == "unverified"  # no Sirene here
        wrong = NationalRegistries(None, ApiEntreprise("not-the-token", "13002526500013", server.url))
        assert identity.check(wrong, "association", None, "W353012345").outcome == "unverified"
        assert counted == ["found", "found", "found", "not_found"]
    finally:
        server.close()
