"""The public's words: what SPC shows or sends to people says it in French (the pact's
principles, dates, amounts in euros)."""

from datetime import date

PRINCIPLES_FR = {  # the pact's eight principles, as a visitor reads them
    "continuity": "Continuité",
    "equality": "Égalité d'accès",
    "neutrality": "Neutralité",
    "adaptability": "Adaptation aux besoins",
    "transparency": "Transparence",
    "data_protection": "Protection des données",
    "no_ad_monetisation": "Ni publicité ni revente de données",
    "governance": "Gouvernance partagée",
}
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def date_fr(day: date) -> str:
    """`1er juillet 2027`, `15 janvier 2027`."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def euros(cents: int | str) -> str:
    """`15 000,00 €` (a narrow no-break space between thousands, as French typography has it)."""
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0€"
