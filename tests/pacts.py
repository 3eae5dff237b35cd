"""Pacts for the tests, with real identifiers and codes: a full pact (every principle with its
text, governance, signatories, term) and unique valid SIRENs."""

import itertools
from datetime import date, timedelta

from spc.services.registry.domain.pact import Pact
from spc.shared.core.identifiers import luhn_valid
from spc.shared.core.events import PRINCIPLES

TEXTS = {
    "continuity": "Open 50 weeks a year, 7:30–19:00; a replacement plan covers staff absences.",
    "equality": "Places are given by date of request; fees follow the CAF's income scale.",
    "neutrality": "No political or religious message; staff and parents sign the charter.",
    "adaptability": "Hours and activities are reviewed each year with the families.",
    "transparency": "Accounts, fees and decisions of the board are published on the website.",
    "data_protection": "Only the data needed for care is kept, two years at most; families may consult it.",
    "no_ad_monetisation": "No advertising, no sale or lending of families' data.",
    "governance": "The parents' general assembly elects the board each year.",
}


def pact_of(fields):
    """A domain Pact from test keyword fields; `departments`/`communes` go into `territories`."""
    fields = dict(fields)
    territories = fields.pop("territories", None) or {
        "departments": fields.pop("departments", []),
        "communes": fields.pop("communes", []),
    }
    fields.pop("departments", None), fields.pop("communes", None)
    return Pact.from_dict(dict(fields, territories=territories))


def sirens(start=100_000_00):
    """Valid SIRENs (Luhn), all different: 8 digits and the check digit."""
    for n in itertools.count(start):
        base = f"{n:08d}"
        yield next(base + d for d in "0123456789" if luhn_valid(base + d))


_SIRENS = sirens(53_000_000)


def full_pact(today=None, **over):
    """The body of POST /services for a full pact (a company-free association by default)."""
    today = today or date.today()
    body = {
        "name": "Crèche parentale Les Petits Pas",
        "legal_form": "association",
        "rna": "W353012345",
        "siren": next(_SIRENS),
        "mission": "Accueil de jeunes enfants géré par les parents, ouvert à toutes les familles.",
        "domains": ["petite enfance"],
        "territories": {"departments": ["35"]},
        "commitments": [{"principle": p, "text": TEXTS[p]} for p in PRINCIPLES],
        "contact_email": "bureau@petitspas.example.org",
        "governance": {
            "bodies": [
                {"name": "Assemblée générale", "how_chosen": "every family using the crèche is a member"},
                {"name": "Conseil d'administration", "how_chosen": "elected each year by the assembly"},
            ],
            "user_representation": "Two seats on the board are kept for families with a child on the waiting list.",
            "responsible": {"name": "Claire Martin", "role": "présidente", "email": "presidence@petitspas.example.org"},
            "data_protection_contact": {"name": "Yann Le Goff", "email": "dpo@petitspas.example.org"},
        },
        "signatories": {
            "legal_representative": {"name": "Claire Martin", "role": "présidente", "email": "presidence@petitspas.example.org"},
            "public_counterpart": {
                "name": "Préfecture d'Ille-et-Vilaine (ministère de l'Intérieur)",
                "kind": "state",
                "siren": "110044013",
            },
            "signed_on": (today - timedelta(days=10)).isoformat(),
        },
        "term": {
            "starts_on": (today - timedelta(days=1)).isoformat(),
            "ends_on": (today + timedelta(days=3 * 365)).isoformat(),
            "pilot": False,
        },
    }
    body.update(over)
    return body
