"""The Démarches Simplifiées client (services/registry/ds_client.py) against DS's GraphQL API as
the tests run it (tests/ds_server.py): pages of at most 100 with a cursor, `updatedSince`,
deleted dossiers, one dossier, a 429 waited out, a refused token said clearly, 400 a minute."""

import pytest

from spc.services.registry.ds_client import DemarchesSimplifiees, DsError, DsUnavailable
from tests.ds_server import DsServer


@pytest.fixture
def ds():
    server = DsServer()
    yield server
    server.close()


def test_pages_of_a_hundred_with_a_cursor_then_only_what_changed_since(ds):
    client = DemarchesSimplifiees(ds.token, ds.url, per_minute=60_000)
    numbers = [ds.submit({"Q2hhbXAtMTAx": ("Nom", f"Crèche {i}")}) for i in range(101)]
    first = client.dossiers(4242)
    assert len(first.dossiers) == 100 and first.has_next
    second = client.dossiers(4242, after=first.end_cursor)
    assert [d.number for d in first.dossiers + second.dossiers] == numbers and not second.has_next
    assert second.dossiers[0].champ("Q2hhbXAtMTAx") == ("Nom", "Crèche 100")
    since = second.dossiers[-1].updated_at
    ds.change(numbers[3], state="accepte", instructeur="paul@prefecture.gouv.fr")
    changed = client.dossiers(4242, updated_since=since)
    assert [(d.number, d.state, d.decided_by) for d in changed.dossiers][-1] == (numbers[3], "accepte", "paul@prefecture.gouv.fr")
    # the last dossier read changes: it comes after the cursor kept (which holds where it stopped)
    ds.change(numbers[-1], state="en_instruction")
    assert [d.number for d in client.dossiers(4242, after=second.end_cursor, updated_since=since).dossiers] == [
        numbers[3],
        numbers[-1],
    ]
    ds.delete(numbers[0])
    assert [(d.number, d.state) for d in client.deleted_dossiers(4242)] == [(numbers[0], "en_construction")]
    assert client.dossier(numbers[3]).state == "accepte"


def test_a_429_is_waited_out_and_a_refused_token_is_said(ds):
    now = [0.0]
    client = DemarchesSimplifiees(ds.token, ds.url, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    ds.mode = "limited"
    with pytest.raises(DsUnavailable) as err:
        client.dossiers(4242)
    assert err.value.retry_after == 1.0
    ds.mode = "ok"
    with pytest.raises(DsUnavailable):  # not asked again before Retry-After
        client.dossiers(4242)
    asked = len(ds.requests)
    now[0] += 1.5
    assert client.dossiers(4242).dossiers == [] and len(ds.requests) == asked + 1
    with pytest.raises(DsError, match="refused the token"):
        DemarchesSimplifiees("wrong", ds.url).dossiers(4242)
    with pytest.raises(DsError, match="Demarche not found"):
        client.dossiers(999)


def test_at_most_four_hundred_requests_a_minute(ds):
    slept = []
    client = DemarchesSimplifiees(ds.token, ds.url, clock=lambda: 0.0, sleep=slept.append)
    for _ in range(3):
        client.dossiers(4242)
    assert slept == [pytest.approx(0.15), pytest.approx(0.30)]  # 60 s / 400, queued behind each other


def test_typed_champs_give_their_codes_and_iso_dates_not_the_text_for_people(ds):
    client = DemarchesSimplifiees(ds.token, ds.url, per_minute=60_000)
    number = ds.submit(
        {
            "Q2hhbXAtMQ==": ("Début", {"__typename": "DateChamp", "stringValue": "15 janvier 2027", "date": "2027-01-15"}),
            "Q2hhbXAtMg==": (
                "Département",
                {
                    "__typename": "DepartementChamp",
                    "stringValue": "35 - Ille-et-Vilaine",
                    "departement": {"code": "35", "name": "Ille-et-Vilaine"},
                },
            ),
            "Q2hhbXAtMw==": (
                "Commune",
                {"__typename": "CommuneChamp", "stringValue": "Rennes (35000)", "commune": {"code": "35238", "name": "Rennes"}},
            ),
            "Q2hhbXAtNA==": ("Nom", "Les Lutins"),
        }
    )
    [dossier] = client.dossiers(4242).dossiers
    assert dossier.number == number and [value for _, _, value in dossier.champs] == ["2027-01-15", "35", "35238", "Les Lutins"]
