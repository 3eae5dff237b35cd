"""One working example request per admin operation, shown in openapi.yaml. They tell one story:
register a crèche in Rennes, approve it, fund it, see it listed at the counter, record a
violation (the service is suspended), resolve it. Ids in the examples are placeholders for those
the system gives out: tests/service/test_openapi_examples.py replays every example in order,
putting in the real ids, and checks each answer is the documented success."""
from spc.shared.events.inbound import SID

EXAMPLE_IDS = {
    "service_id": SID,
    "programme_id": "0f9e3f7c-5d55-4a1a-9d0e-4b8a6e2f7a10",
    "tranche_id": "6b1d0c4e-2f0a-4d7b-8f38-1e5f0a9c3d21",
    "finding_id": "c2a7e9d4-8b3f-4e61-a5d2-7f0b9e1c4a32",
    "counter_id": "FS-35-0042",  # as in counter.upserted's example (asyncapi.yaml)
}

BODIES = {
    ("registry", "register"): {
        "name": "Crèche parentale Les Petits Pas", "legal_form": "association", "rna": "W353012345",
        "mission": "Accueil de jeunes enfants géré par les parents, ouvert à toutes les familles.",
        "domains": ["petite enfance"], "territories": {"departments": ["35"], "communes": ["35238"]},
        "commitments": ["continuity", "equality", "neutrality", "adaptability", "transparency",
                        "data_protection", "no_ad_monetisation"],
        "contact_email": "bureau@petitspas.example.org"},
    ("registry", "revoke"): {"reason": "The association was dissolved (general assembly of 2026-11-20)."},
    ("funding", "create_programme"): {"name": "Petite enfance 2027 — Ille-et-Vilaine",
                                      "budget_cents": 50_000_000},
    ("funding", "award_grant"): {
        "programme_id": EXAMPLE_IDS["programme_id"], "service_id": SID,
        "tranches": [{"amount_cents": 1_500_000, "due_date": "2027-01-15", "milestone": "opening"},
                     {"amount_cents": 1_500_000, "due_date": "2027-07-01", "milestone": "mid-year report"}]},
    ("audit", "record_finding"): {
        "service_id": SID, "principle": "no_ad_monetisation", "severity": "major",
        "summary": "Advertising sold on the parents' portal", "reported_by": "inspection-35",
        "evidence_url": "https://inspection.example.org/reports/2026-118"},
    ("audit", "resolve_finding"): {"resolution": "The advertising was removed; checked on 2026-12-02."},
}


def request_example(service, operation):
    return BODIES.get((service, operation))
