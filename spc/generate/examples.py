"""One working example request per admin operation, shown in openapi.yaml. They tell one story:
register a crèche in Rennes, approve it, fund it, see it listed at the counter, record a
violation (the service is suspended), resolve it. Ids in the examples are placeholders for those
the system gives out: tests/service/test_openapi_examples.py replays every example in order,
putting in the real ids, and checks each answer is the documented success."""

from spc.shared.core.events.inbound import SID

EXAMPLE_IDS = {
    "service_id": SID,
    "programme_id": "0f9e3f7c-5d55-4a1a-9d0e-4b8a6e2f7a10",
    "tranche_id": "6b1d0c4e-2f0a-4d7b-8f38-1e5f0a9c3d21",
    "grant_id": "9a4c6e1b-3d2f-4b8a-9c7e-5f1d0a2b3c44",
    "approval_id": "e5b8d2a1-6c4f-4e9b-8a3d-2c1f7e0b9d55",
    "finding_id": "c2a7e9d4-8b3f-4e61-a5d2-7f0b9e1c4a32",
    "amendment_id": "3f1c2b9e-7a55-4c1d-9a3e-0b6d8f2e4c71",
    "counter_id": "FS-35-0042",  # as in counter.upserted's example (asyncapi.yaml)
    "report_id": "7d3e1f0a-2b4c-4d5e-8f60-718293a4b5c6",  # a citizen report audit keeps
    "asset_path": "dsfr.min.css",  # a file of the State design system the public pages use
    "number": 1234567,  # a Démarches Simplifiées dossier's number
    # nosec B105: a placeholder shown in openapi.yaml's example path, never a secret in use
    "secret": "the-secret-of-SPC_DS_WEBHOOK_SECRET",  # nosec B105
}

BODIES = {
    ("registry", "ds_webhook"): {
        "procedure_id": "4242",
        "dossier_id": EXAMPLE_IDS["number"],
        "state": "en_construction",
        "updated_at": "2027-03-01T10:00:00+01:00",
    },
    ("registry", "register"): {
        "name": "Crèche parentale Les Petits Pas",
        "legal_form": "association",
        "rna": "W353012345",
        "mission": "Accueil de jeunes enfants géré par les parents, ouvert à toutes les familles.",
        "domains": ["petite enfance"],
        "territories": {"departments": ["35"], "communes": ["35238"]},
        "commitments": [
            {
                "principle": "continuity",
                "text": "Ouverte 50 semaines par an, de 7 h 30 à 19 h ; un plan de remplacement couvre les absences.",
            },
            {"principle": "equality", "text": "Places attribuées par date de demande ; tarifs au barème CAF selon les revenus."},
            {
                "principle": "neutrality",
                "text": "Aucun message politique ou religieux ; la charte est signée par l'équipe et les parents.",
            },
            {"principle": "adaptability", "text": "Horaires et activités revus chaque année avec les familles."},
            {"principle": "transparency", "text": "Comptes, tarifs et décisions du conseil publiés sur le site."},
            {"principle": "data_protection", "text": "Seules les données utiles à l'accueil sont gardées, deux ans au plus."},
            {"principle": "no_ad_monetisation", "text": "Aucune publicité ; aucune donnée des familles n'est vendue ni prêtée."},
            {"principle": "governance", "text": "L'assemblée générale des parents élit le conseil chaque année."},
        ],
        "contact_email": "bureau@petitspas.example.org",
        "governance": {
            "bodies": [
                {"name": "Assemblée générale", "how_chosen": "toutes les familles accueillies en sont membres"},
                {"name": "Conseil d'administration", "how_chosen": "élu chaque année par l'assemblée générale"},
            ],
            "user_representation": "Deux sièges du conseil sont réservés aux familles en liste d'attente.",
            "responsible": {"name": "Claire Martin", "role": "présidente", "email": "presidence@petitspas.example.org"},
            "data_protection_contact": {"name": "Yann Le Goff", "email": "dpo@petitspas.example.org"},
        },
        "signatories": {
            "legal_representative": {"name": "Claire Martin", "role": "présidente", "email": "presidence@petitspas.example.org"},
            "public_counterpart": {"name": "Ville de Rennes", "kind": "collectivite", "cog": "35238"},
            "signed_on": "2026-12-15",
        },
        "term": {"starts_on": "2027-01-01", "ends_on": "2029-12-31", "pilot": True, "evaluation_on": "2028-06-30"},
        "referral": "Appeler le 02 99 00 00 00 (lun.–ven., 9 h–12 h) ou écrire à inscriptions@petitspas.example.org ; "
        "venir avec le carnet de santé de l'enfant.",
    },
    ("registry", "propose_amendment"): {
        "territories": {"departments": ["35", "56"], "communes": ["35238"]},
        "reason": "Le conseil départemental du Morbihan rejoint le pacte (délibération du 2027-03-02).",
    },
    ("registry", "reject_amendment"): {"reason": "La délibération du Morbihan n'est pas encore publiée."},
    ("registry", "revoke"): {"reason": "The association was dissolved (general assembly of 2026-11-20)."},
    ("funding", "create_programme"): {
        "name": "Petite enfance 2027 — Ille-et-Vilaine",
        "budget_cents": 50_000_000,
        "funder": {"name": "Ville de Rennes", "siret": "21350238800019"},
        "legal_basis": "Délibération du conseil municipal de Rennes n° 2026-0412 du 12 octobre 2026 (accueil du jeune enfant)",
    },
    ("funding", "award_grant"): {
        "programme_id": EXAMPLE_IDS["programme_id"],
        "service_id": SID,
        "tranches": [
            {"amount_cents": 1_500_000, "due_date": "2027-01-15", "milestone": "opening"},
            {"amount_cents": 1_500_000, "due_date": "2027-07-01", "milestone": "mid-year report"},
        ],
    },
    ("funding", "release_tranche"): {  # the first tranche falls due on 2027-01-15: early, with its reason
        "evidence": "https://petitspas.example.org/documents/pv-ouverture-2026-12.pdf",
        "reason": "La crèche a ouvert le 1er décembre 2026 : le premier versement couvre les salaires de décembre.",
    },
    ("funding", "revoke_grant"): {"reason": "La crèche a fermé le 30 juin 2027 (délibération n° 2027-112)."},
    ("funding", "raise_budget"): {
        "budget_cents": 60_000_000,
        "reason": "Décision modificative n° 2 du conseil municipal du 14 mars 2027.",
    },
    ("funding", "request_approval"): {
        "action": "release",
        "target_id": EXAMPLE_IDS["tranche_id"],
        "reason": "Jalon « ouverture » atteint : procès-verbal du conseil d'administration joint.",
        "evidence": "https://petitspas.example.org/documents/pv-ouverture-2026-12.pdf",
    },
    ("funding", "reject"): {"reason": "Le procès-verbal joint n'est pas signé."},
    ("audit", "record_finding"): {
        "service_id": SID,
        "principle": "no_ad_monetisation",
        "severity": "major",
        "summary": "Advertising sold on the parents' portal",
        "reported_by": "inspection-35",
        "evidence_url": "https://inspection.example.org/reports/2026-118",
    },
    ("audit", "resolve_finding"): {"resolution": "The advertising was removed; checked on 2026-12-02."},
    ("audit", "dismiss_report"): {"reason": "Le service n'était pas concerné : la famille visait une autre crèche."},
    ("audit", "answer_finding"): {
        "plan": "La liste d'attente et ses règles seront publiées sur le portail des parents.",
        "due_on": "2027-01-15",
    },
    ("audit", "report_remediation_done"): {"note": "Publiée le 2027-01-10 : https://petitspas.example.org/liste-attente"},
    ("audit", "escalate_finding"): {"reason": "La liste d'attente n'est toujours pas publiée."},
    ("distribution", "relay_report"): {
        "service_id": SID,
        "category": "refused_access",
        "text": "On a refusé d'inscrire mon fils sans me donner de raison, alors qu'il restait des places.",
    },
}


def request_example(service, operation):
    return BODIES.get((service, operation))
