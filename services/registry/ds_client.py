"""Démarches Simplifiées' GraphQL API v2, as the registry reads it: a démarche's dossiers changed
since a moment (`updatedSince`, cursor pagination, 100 a page at most), those deleted since, and
one dossier by its number. A token per démarche's administrator (`Authorization: Bearer`).

DS allows 400 requests a minute per token: the client spaces its requests by 60/400 s, and on
429 or 5xx raises DsUnavailable with how long to wait (Retry-After, else a doubling backoff up to
5 minutes), which the caller honours before asking again."""

import time
from dataclasses import dataclass

import requests

from spc.shared.core.pacing import Pacer

from .domain.dossiers import Dossier

PUBLIC_API = "https://www.demarches-simplifiees.fr/api/v2/graphql"
PAGE = 100

DOSSIER_FIELDS = """
  id number state dateDerniereModification motivation
  demarche { number revision { id } }
  usager { email }
  traitements { state emailAgentTraitant dateTraitement }
  champs {
    id label stringValue
    ... on DateChamp { date }
    ... on DepartementChamp { departement { code } }
    ... on CommuneChamp { commune { code } }
  }
"""
DOSSIERS = (
    """
query spcDossiers($demarche: Int!, $first: Int, $after: String, $updatedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    number
    dossiers(first: $first, after: $after, updatedSince: $updatedSince, order: ASC) {
      pageInfo { hasNextPage endCursor }
      nodes { %s }
    }
  }
}"""
    % DOSSIER_FIELDS
)
DELETED = """
query spcDeleted($demarche: Int!, $deletedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    deletedDossiers(deletedSince: $deletedSince, order: ASC) { nodes { id number state dateSupression } }
  }
}"""
SEND_MESSAGE = """
mutation spcMessage($input: DossierEnvoyerMessageInput!) {
  dossierEnvoyerMessage(input: $input) { message { id } errors { message } }
}"""
ONE = (
    """
query spcDossier($number: Int!) { dossier(number: $number) { %s } }"""
    % DOSSIER_FIELDS
)


class DsUnavailable(Exception):
    """DS could not answer now; `retry_after`: seconds to wait before asking again."""

    def __init__(self, why, retry_after):
        super().__init__(f"{why} (asked again in {retry_after:.0f} s)")
        self.retry_after = retry_after


class DsError(Exception):
    """DS answered with errors (a wrong token, an unknown démarche or dossier): a setting to fix."""


@dataclass(frozen=True)
class Page:
    dossiers: list
    has_next: bool
    end_cursor: str | None


class DemarchesSimplifiees:
    def __init__(self, token, url=PUBLIC_API, per_minute=400, timeout=30.0, session=None, clock=time.monotonic, sleep=time.sleep):
        self.url, self.token, self.timeout = url, token, timeout
        self.session = session or requests.Session()
        self.clock = clock
        self.pacer = Pacer(60.0 / per_minute, clock, sleep)
        self._backoff, self._quiet_until = 0.0, 0.0

    def dossiers(self, demarche, after=None, updated_since=None):
        data = self._ask(DOSSIERS, {"demarche": demarche, "first": PAGE, "after": after, "updatedSince": updated_since})
        connection = data["demarche"]["dossiers"]
        return Page(
            [_dossier(n) for n in connection["nodes"] or []],
            bool(connection["pageInfo"]["hasNextPage"]),
            connection["pageInfo"].get("endCursor"),
        )

    def deleted_dossiers(self, demarche, deleted_since=None):
        data = self._ask(DELETED, {"demarche": demarche, "deletedSince": deleted_since})
        return [
            Dossier(number=n["number"], state=n["state"], updated_at=n["dateSupression"], demarche=demarche, revision="")
            for n in data["demarche"]["deletedDossiers"]["nodes"] or []
        ]

    def dossier(self, number):
        return _dossier(self._ask(ONE, {"number": int(number)})["dossier"])

    def send_message(self, dossier_id, instructeur_id, body):
        """A message on the dossier, from that instructor (DS's `dossierEnvoyerMessage`)."""
        answer = self._ask(SEND_MESSAGE, {"input": {"dossierId": dossier_id, "instructeurId": instructeur_id, "body": body}})[
            "dossierEnvoyerMessage"
        ]
        if answer.get("errors"):
            raise DsError(
                "Démarches Simplifiées refused the message: " + "; ".join(str(e.get("message")) for e in answer["errors"])[:300]
            )
        return answer["message"]["id"]

    def _ask(self, query, variables):
        now = self.clock()
        if now < self._quiet_until:
            raise DsUnavailable("Démarches Simplifiées asked us to wait", self._quiet_until - now)
        self.pacer.wait()
        try:
            answer = self.session.post(
                self.url,
                json={"query": query, "variables": variables},
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )
        except requests.RequestException as exc:
            raise self._wait(f"Démarches Simplifiées unreachable ({type(exc).__name__})") from None
        if answer.status_code == 429 or answer.status_code >= 500:
            raise self._wait(f"Démarches Simplifiées answered {answer.status_code}", answer.headers.get("Retry-After"))
        if answer.status_code in (401, 403):
            raise DsError(f"Démarches Simplifiées refused the token ({answer.status_code}): check SPC_DS_TOKEN")
        if answer.status_code != 200:
            raise DsError(f"Démarches Simplifiées answered {answer.status_code} at {self.url}: check SPC_DS_URL")
        try:
            doc = answer.json()
        except ValueError:
            raise self._wait("Démarches Simplifiées answered 200, not JSON") from None
        if doc.get("errors"):
            raise DsError("Démarches Simplifiées: " + "; ".join(str(e.get("message")) for e in doc["errors"])[:500])
        self._backoff = 0.0
        return doc["data"]

    def _wait(self, why, retry_after=None):
        try:
            wait = max(1.0, float(retry_after))
        except (TypeError, ValueError):
            self._backoff = min(300.0, max(2.0, self._backoff * 2))
            wait = self._backoff
        self._quiet_until = self.clock() + wait
        return DsUnavailable(why, wait)


def _dossier(node):
    traitements = node.get("traitements") or []
    decided = next((t.get("emailAgentTraitant") for t in reversed(traitements) if t.get("emailAgentTraitant")), "")
    demarche = node.get("demarche") or {}
    return Dossier(
        number=int(node["number"]),
        state=node["state"],
        updated_at=node["dateDerniereModification"],
        demarche=int(demarche.get("number") or 0),
        revision=str((demarche.get("revision") or {}).get("id")),
        applicant=(node.get("usager") or {}).get("email") or "",
        decided_by=decided or "",
        motivation=node.get("motivation") or "",
        champs=tuple((c["id"], c.get("label") or "", _value(c)) for c in node.get("champs") or []),
        id=str(node.get("id") or ""),
    )


def _value(champ):
    """A champ's value as the pact takes it: a date champ's ISO date, a département or commune
    champ's code (their `stringValue` is text for people: "15 janvier 2027", "35 - Ille-et-Vilaine"),
    else its `stringValue`."""
    for typed in (champ.get("date"), (champ.get("departement") or {}).get("code"), (champ.get("commune") or {}).get("code")):
        if typed:
            return str(typed)
    return champ.get("stringValue")
