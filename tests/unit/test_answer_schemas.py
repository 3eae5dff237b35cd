"""The answer schemas' instances (shared/core/answers.out): one per schema, kept, so a dump does not
make its nested schemas again; one instance serves every call, whatever each dumps."""

from spc.services.registry.schemas import ServiceOut, ServicePage
from spc.shared.core.answers import out


def service(sid, department):
    return {
        "id": sid,
        "name": f"Crèche {sid}",
        "legal_form": "association",
        "siren": None,
        "rna": "W353000001",
        "mission": "Accueil",
        "domains": ["petite_enfance"],
        "territories": {"departments": [department], "communes": [], "regions": [], "national": False},
        "commitments": ["continuity"],
        "contact_email": "contact@example.org",
        "status": "active",
        "status_reason": None,
        "version": 2,
        "open_violations": 0,
        "pact_version": 1,
        "pact_missing": [],
    }


def test_one_instance_per_schema_kept():
    assert out(ServicePage) is out(ServicePage)
    assert out(ServiceOut) is not out(ServicePage)
    assert isinstance(out(ServicePage), ServicePage)


def test_the_kept_instance_dumps_as_a_new_one_each_time():
    pages = [{"items": [service(f"s{n}", d)], "total": 1, "limit": 50, "offset": n} for n, d in enumerate(["35", "2A"])]
    kept = [out(ServicePage).dump(page) for page in pages]
    assert kept == [ServicePage().dump(page) for page in pages]
    assert [p["items"][0]["territories"]["departments"] for p in kept] == [["35"], ["2A"]]
