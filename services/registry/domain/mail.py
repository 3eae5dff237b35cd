"""The e-mail a service's contact receives for each of its reminders, in French (pure: the
reminder and the service in, the message's subject and text out). The registry sends it: it
holds the contact's address (the pact's `contact_email`)."""

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from spc.shared.core.french import date_fr

WHAT_TO_DO = {
    "milestone_due": "Les pièces justificatives de ce jalon sont à transmettre à votre financeur avant "
    "l'échéance : le versement de la tranche en dépend.",
    "milestone_overdue": "L'échéance est passée et la tranche n'a pas été versée : transmettez les pièces "
    "justificatives du jalon à votre financeur.",
    "term_ending_90": "Le pacte de service public arrive à son terme. Pour que le service continue après "
    "cette date, préparez son renouvellement avec votre interlocuteur au registre.",
    "term_ending_30": "Le pacte de service public arrive à son terme dans moins d'un mois. Sans "
    "renouvellement, le financement sera gelé et le service retiré des espaces France services "
    "à cette date.",
    "evaluation_due": "L'expérimentation doit être évaluée à cette date : préparez le bilan prévu par le pacte.",
    "remediation_due": "Le constat d'audit doit être corrigé avant cette date. Passé ce délai, il est "
    "escaladé et peut conduire à la suspension du service.",
    "remediation_overdue": "Le délai de remédiation est dépassé : le constat est escaladé s'il ne l'a pas "
    "déjà été. Répondez à l'auditeur dès que possible.",
}


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def when(days_left: int) -> str:
    if days_left > 1:
        return f"dans {days_left} jours"
    if days_left == 1:
        return "demain"
    if days_left == 0:
        return "aujourd'hui"
    return f"dépassée de {-days_left} jour{'s' if days_left < -1 else ''}"


def reminder_mail(to: str, service_name: str, service_id: str, reminder: Mapping[str, Any]) -> Mail:
    """`reminder`: a `*.reminder_due` payload."""
    due_on = date.fromisoformat(reminder["due_on"]) if isinstance(reminder["due_on"], str) else reminder["due_on"]
    body = "\n".join(
        [
            "Bonjour,",
            "",
            f"Service Public Citoyen vous écrit au sujet du service « {service_name} ».",
            "",
            reminder["title"],
            f"Échéance : le {date_fr(due_on)} ({when(reminder['days_left'])}).",
            "",
            WHAT_TO_DO[reminder["kind"]],
            "",
            "Toutes vos échéances : l'agenda de votre service (GET /services/"
            f"{service_id}/agenda au registre, au financement et à l'audit, avec le jeton de votre service).",
            "",
            "Ce message est envoyé automatiquement, une fois pour cette échéance ; merci de ne pas y répondre.",
            "",
            "Service Public Citoyen",
            "",
        ]
    )
    return Mail(to, f"[Service Public Citoyen] {reminder['title']}", body)
