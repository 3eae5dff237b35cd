"""Applications from Démarches Simplifiées (DS): what a dossier says, as SPC's registry reads it.

A démarche's form changes between revisions, so a dossier's fields (DS calls them *champs*) are
read through a **mapping per démarche and revision**: for each part of the pact, the id of the
champ that holds it (a TOML file, docs/integrating.md "Applications from Démarches
Simplifiées"). A dossier whose revision has no mapping, or whose champs do not make a pact, is
`MalformedDossier`, naming the champ: it is parked for staff to see, never half applied.

What each of DS's states means for the registry (`action`):
- `en_construction`, `en_instruction`: the application is submitted (registered, or its pact
  updated while it is not yet approved);
- `accepte`: approved, attributed to the DS instructor who accepted it;
- `refuse`, `sans_suite`: the submission is closed;
- a dossier deleted in DS withdraws a submission that is not approved.
"""

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from spc.shared.core.dotted import leaves

if TYPE_CHECKING:
    from .model import CitizenService

SUBMIT, APPROVE, CLOSE, WITHDRAW = "submit", "approve", "close", "withdraw"
ACTIONS = {"en_construction": SUBMIT, "en_instruction": SUBMIT, "accepte": APPROVE, "refuse": CLOSE, "sans_suite": CLOSE}
# pact paths whose champ holds a list (DS's stringValue of a multiple choice: "a, b, c")
LISTS = ("domains", "territories.departments", "territories.communes", "territories.regions")
BOOLEANS = ("territories.national", "term.pilot")
PRINCIPLE_TEXTS = "commitments."  # commitments.<principle> = the champ holding that principle's text


class MalformedDossier(Exception):
    """The dossier cannot be read as a pact; `field` names the champ (or the part) at fault."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field, self.why = field, why


@dataclass(frozen=True)
class Dossier:
    """What SPC reads of a DS dossier (API v2): its number, state, last change, the démarche and
    revision it was filled in, the applicant's email, who decided it, and its champs by id."""

    number: int
    state: str
    updated_at: str  # dateDerniereModification, as DS wrote it
    demarche: int
    revision: str
    applicant: str = ""  # usager.email
    decided_by: str = ""  # the last traitement's emailAgentTraitant
    motivation: str = ""
    champs: tuple[tuple[str, str, str | None], ...] = ()  # ((id, label, stringValue), ...)
    id: str = ""  # its GraphQL id (what a mutation names it by)

    def champ(self, champ_id: str) -> tuple[str, str | None] | None:
        for cid, label, value in self.champs:
            if cid == champ_id:
                return label, value
        return None

    @property
    def key(self) -> str:
        """What makes one delivery of this dossier the same as another (polled and poked at once)."""
        return f"ds:{self.demarche}:{self.number}:{self.state}:{self.updated_at}"


def action(state: str) -> str:
    if state not in ACTIONS:
        raise MalformedDossier("state", f"unknown dossier state {state!r}")
    return ACTIONS[state]


class Mapping:
    """`revisions`: {revision id: {pact path: champ id}} for one démarche; a pact path is dotted
    (`territories.departments`, `governance.responsible.email`, `governance.bodies.0.name`,
    `commitments.neutrality` for that principle's text)."""

    def __init__(self, demarche: int | str, revisions: dict[Any, Any]) -> None:
        self.demarche, self.revisions = int(demarche), {str(k): dict(v) for k, v in revisions.items()}

    @classmethod
    def from_toml(cls, text: str, source: str = "mapping") -> "Mapping":
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not TOML ({exc})") from None
        if not isinstance(doc.get("demarche"), int) or not isinstance(doc.get("revisions"), dict):
            raise ValueError(f'{source}: needs `demarche = <number>` and a [revisions."<revision id>"] table')
        revisions: dict[str, dict[str, Any]] = {}
        for revision, table in doc["revisions"].items():
            revisions[revision] = dict(leaves(table))
            bad = [p for p, c in revisions[revision].items() if not isinstance(c, str) or not c]
            if bad:
                raise ValueError(f"{source}: revision {revision}: {bad[0]} must name a champ id")
            unknown = [p for p in revisions[revision] if not _pact_part(p)]
            if unknown:
                raise ValueError(
                    f"{source}: revision {revision}: {unknown[0]} is no part of a pact "
                    "(POST /services' fields, or commitments.<principle>)"
                )
        return cls(doc["demarche"], revisions)

    def pact_body(self, dossier: Dossier) -> dict[str, Any]:
        """The body of a registration (as POST /services takes it) from the dossier's champs."""
        if dossier.revision not in self.revisions:
            raise MalformedDossier(
                "revision",
                f"no mapping for revision {dossier.revision} of démarche {dossier.demarche} (add it to the mapping file)",
            )
        body: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for path, champ_id in self.revisions[dossier.revision].items():
            found = dossier.champ(champ_id)
            value: Any = (found[1] or "").strip() if found else ""
            if not value:
                continue
            if path.startswith(PRINCIPLE_TEXTS):
                texts[path[len(PRINCIPLE_TEXTS) :]] = value
                continue
            if path in LISTS:
                value = [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
            elif path in BOOLEANS:
                value = value.lower() in ("true", "oui", "yes", "1")
            _put(body, path, value)
        if texts:
            body["commitments"] = [{"principle": p, "text": t} for p, t in texts.items()]
        body.setdefault("territories", {})
        return body

    def champ_of(self, dossier: Dossier, pact_field: str) -> str:
        """The champ (id and label) that holds a pact field named by an error, for the message."""
        paths = self.revisions.get(dossier.revision, {})
        related = [p for p in paths if p == pact_field or p.startswith(pact_field + ".") or pact_field.startswith(p + ".")]
        related = related or [p for p in paths if p.split(".")[0] == pact_field.split(".")[0]]
        if not related:
            return pact_field
        path = min(related, key=lambda p: (p != pact_field, -len(os.path.commonprefix([p, pact_field]))))
        found = dossier.champ(paths[path])
        return f"champ {paths[path]}" + (f" ({found[0]})" if found else "")


def _pact_part(path: str) -> bool:
    """Whether a mapped path names a part of a pact (its first part a field of the pact;
    `commitments.<principle>` a principle)."""
    from spc.shared.core.events import PRINCIPLES
    from .pact import Pact

    top, _, rest = path.partition(".")
    if top == "commitments":
        return rest in PRINCIPLES
    return top in Pact.__dataclass_fields__


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = body
    for part, following in zip(parts, parts[1:], strict=False):  # each part with the one after it
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append({} if not following.isdigit() else [])
            node = node[index]
            continue
        node = node.setdefault(part, [] if following.isdigit() else {})
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value


class DossierLink:
    """What the registry keeps of a DS dossier: the service it became (None while it is parked
    before ever making one), its last state and change applied, and the problem that parks it."""

    def __init__(
        self,
        number: int,
        demarche: int,
        service_id: str | None = None,
        state: str | None = None,
        updated_at: str | None = None,
        problem: str | None = None,
        seen_at: datetime | None = None,
        ds_id: str | None = None,
    ) -> None:
        self.number, self.demarche, self.service_id, self.ds_id = number, demarche, service_id, ds_id
        self.state, self.updated_at, self.problem, self.seen_at = state, updated_at, problem, seen_at
        self.notified_status: str | None = None  # the service's status the applicant was last told of (write-back)
        self.notify_claimed_at: datetime | None = None  # when a process took the sending of a message to the applicant

    def news_for_applicant(self, service: "CitizenService") -> str | None:
        """The message the applicant should read on their dossier now (the write-back), or None:
        a suspension, or a reinstatement after one, that they were not told of yet. Marks it told."""
        status, told = service.status, self.notified_status
        if told is None:  # linked before anything worth telling: start from where the service stands
            self.notified_status = status
            return None
        if status == told or status not in ("suspended", "active"):
            self.notified_status = status if status not in ("suspended", "active") else told
            return None
        self.notified_status = status
        if status == "suspended":
            because = service.status_reason or "une violation des principes du pacte est ouverte"
            return (
                f"Le service « {service.name} » est suspendu ({because}) : son financement et sa diffusion "
                "dans les espaces France Services sont gelés jusqu'à la résolution de la violation."
            )
        if told == "suspended":
            return (
                f"Le service « {service.name} » est rétabli : plus aucune violation n'est ouverte ; son "
                "financement et sa diffusion reprennent."
            )
        return None


class SyncCursor:
    """Where polling a démarche stands: DS's page cursor and the `updatedSince` it was read with."""

    def __init__(
        self, demarche: int, end_cursor: str | None = None, updated_since: str | None = None, deleted_since: str | None = None
    ) -> None:
        self.demarche, self.end_cursor = demarche, end_cursor
        self.updated_since, self.deleted_since = updated_since, deleted_since
        self.polling_until: datetime | None = None  # a registry process polls the démarche until then (a lease)

    def take(self, now: datetime, lease: timedelta) -> bool:
        """One process polls a démarche at a time: the lease, unless another holds it still."""
        if self.polling_until is not None and self.polling_until > now:
            return False
        self.polling_until = now + lease
        return True
