"""The pact: what a citizen service commits to, who governs and signs it, for how long, where it
serves; and the rules a pact must meet (pure Python, no nameko, no SQL).

Two forms are accepted. The **full pact** (every principle committed to with the service's own
text, governance, signatories, term) is what new integrations send. A **contract-v1 pact**
(`commitments` as a list of principle names, none of governance, signatories or term) is still
accepted, as contract v1 promises; it is marked incomplete (`missing`) until an amendment
completes it. As soon as one of the full pact's parts is given, all of them are required.
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping

from spc.shared.core.events import PRINCIPLES
from spc.shared.core.geography import COMMUNE_CODE, DEPARTMENT_CODE, REGION_CODE, geography
from spc.shared.core.identifiers import siren_problem

LEGAL_FORMS = ("association", "cooperative", "scic", "scop", "foundation", "company", "public_body", "informal_collective")
# which identifiers each legal form has: an association is in the RNA or has a SIREN; the others
# (except an informal collective, which has neither and names a referent) have a SIREN
NEEDS_SIREN = ("cooperative", "scic", "scop", "foundation", "company", "public_body")
COUNTERPART_KINDS = ("state", "collectivite")
AMENDABLE = ("territories", "commitments", "governance", "contact_email", "term", "signatories", "referral")
IDENTITY = ("legal_form", "siren", "rna", "referent")  # fixed at registration: not amendable
FULL_PARTS = ("governance", "signatories", "term")
DEPARTMENT = re.compile(DEPARTMENT_CODE)
COMMUNE = re.compile(COMMUNE_CODE)
REGION = re.compile(REGION_CODE)
SIREN = re.compile(r"^[0-9]{9}$")
RNA = re.compile(r"^W[0-9]{9}$")
# no @, control character or space on either side (written out: \s differs between Python and
# the JSON Schema regexes openapi.yaml readers use)
EMAIL = re.compile(r"^[^@\x00-\x20\x7f-\xa0]+@[^@\x00-\x20\x7f-\xa0]+\.[^@\x00-\x20\x7f-\xa0]+$")


def siren_valid(siren: str) -> bool:
    return siren_problem(siren) is None


def rna_valid(rna: str | None) -> bool:
    """An RNA number (répertoire national des associations) is W followed by 9 digits."""
    return bool(RNA.fullmatch(rna or ""))


def department_valid(code: str) -> bool:
    return code in geography().departments


def commune_valid(code: str) -> bool:
    commune = geography().commune(code)
    return commune is not None and commune.kind != "former_commune"


@dataclass
class Territories:
    """Where the service serves: départements, communes (INSEE codes), régions (each covers its
    départements) or the whole country."""

    departments: list[str] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    national: bool = False

    def problems(self) -> dict[str, str]:
        out: dict[str, str]
        out, geo = {}, geography()
        if not (self.departments or self.communes or self.regions or self.national):
            return {"territories": "at least one département, commune or région, or national scope, is required"}
        for name, found in (
            ("departments", geo.check_departments(self.departments)),
            ("regions", geo.check_regions(self.regions)),
        ):
            if found:
                out[f"territories.{name}"] = "; ".join(found)
        containing = list(self.departments) + geo.departments_in(self.regions)
        found = geo.check_communes(self.communes, containing if (self.departments or self.regions) else None)
        if found:
            out["territories.communes"] = "; ".join(found)
        return out

    def departments_covered(self) -> list[str]:
        """Every département covered whole (its own and its régions')."""
        return sorted(set(self.departments) | set(geography().departments_in(self.regions)))

    def departments_touched(self) -> list[str]:
        """Every département where it serves, whole or in part."""
        geo = geography()
        return sorted(
            set(self.departments_covered()) | {department for c in self.communes if (department := geo.department_of(c))}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "departments": list(self.departments),
            "communes": list(self.communes),
            "regions": list(self.regions),
            "national": bool(self.national),
        }


@dataclass
class Pact:
    name: str
    legal_form: str
    mission: str
    contact_email: str
    domains: list[str] = field(default_factory=list)
    territories: Territories = field(default_factory=Territories)
    commitments: dict[str, str | None] = field(default_factory=dict)  # principle -> the service's text (None: v1)
    siren: str | None = None
    rna: str | None = None
    referent: dict[str, Any] | None = None  # {name, email}: an informal collective's
    governance: dict[str, Any] | None = None  # {bodies, user_representation, responsible, data_protection_contact}
    signatories: dict[str, Any] | None = None  # {legal_representative, public_counterpart, signed_on}
    term: dict[str, Any] | None = None  # {starts_on, ends_on, pilot, evaluation_on}
    referral: str | None = None  # how a counter agent refers a person to the service

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Pact":
        """A pact from its document (as stored, or as loaded by the HTTP schema)."""
        document = plain(dict(data))
        territories = document.pop("territories", None) or {}
        commitments = document.pop("commitments", None)
        return cls(
            **{k: v for k, v in document.items() if k in cls.__dataclass_fields__},
            territories=Territories(
                **{
                    k: territories.get(k, d)
                    for k, d in (("departments", []), ("communes", []), ("regions", []), ("national", False))
                }
            ),
            commitments=commitments_of(commitments),
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["territories"] = self.territories.as_dict()
        out["commitments"] = [{"principle": p, "text": t} for p, t in self.commitments.items()]
        return out

    def amended(self, changes: Mapping[str, Any]) -> "Pact":
        """The pact with `changes` (a subset of AMENDABLE, each part replaced whole)."""
        unknown = set(changes) - set(AMENDABLE)
        if unknown:
            raise ValueError(f"not amendable: {sorted(unknown)}")
        merged = self.to_dict()
        merged.update(changes)
        return Pact.from_dict(merged)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def full(self) -> bool:
        return any(getattr(self, part) for part in FULL_PARTS) or any(self.commitments.values())

    def missing(self) -> list[str]:
        """What a complete pact would still need (empty for a complete one)."""
        out = [f"commitments.{p}" for p in PRINCIPLES if not self.commitments.get(p)]
        return out + [part for part in FULL_PARTS if not getattr(self, part)]

    def ends_on(self) -> date | None:
        return _date(self.term["ends_on"]) if self.term else None

    def text_of(self, principle: str) -> str | None:
        return self.commitments.get(principle)

    # -- rules -----------------------------------------------------------------------------------
    def problems(self, today: date | None = None) -> dict[str, str | None]:
        """Every rule the pact breaks, as {field: message}; empty when it is acceptable."""
        out: dict[str, str | None] = {}
        if self.legal_form not in LEGAL_FORMS:
            out["legal_form"] = f"must be one of {', '.join(LEGAL_FORMS)}"
        out.update(self._identity_problems())
        if not EMAIL.fullmatch(self.contact_email or ""):
            out["contact_email"] = "must be an e-mail address"
        out.update(self.territories.problems())
        if not self.commitments:
            out["commitments"] = "a pact commits to the public-service principles: none given"
        bad = [p for p in self.commitments if p not in PRINCIPLES]
        if bad:
            out["commitments"] = f"unknown principles: {bad}"
        if self.full:
            for item in self.missing():
                out[item] = (
                    "the service's text of how it applies this principle is required"
                    if item.startswith("commitments.")
                    else "required in a full pact (with commitment texts, governance, signatories, term)"
                )
            out.update(self._term_problems(today))
            out.update(self._counterpart_problems())
        return out

    def _identity_problems(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if self.siren is not None and siren_problem(self.siren):
            out["siren"] = siren_problem(self.siren)
        if self.rna is not None and not rna_valid(self.rna):
            out["rna"] = "must be W followed by 9 digits"
        if self.legal_form == "association" and not (self.siren or self.rna):
            out["legal_form"] = "an association gives its RNA number or its SIREN"
        elif self.legal_form in NEEDS_SIREN and not self.siren:
            out["siren"] = f"a {self.legal_form} gives its SIREN"
        if self.legal_form in NEEDS_SIREN and self.rna:
            out["rna"] = f"only associations have an RNA number, not a {self.legal_form}"
        if self.legal_form == "informal_collective":
            if self.siren or self.rna:
                out["legal_form"] = "an informal collective has no SIREN or RNA number: choose its legal form"
            if not (self.referent or (self.governance or {}).get("responsible")):
                out["referent"] = "an informal collective names a referent (name and e-mail)"
        return out

    def _term_problems(self, today: date | None) -> dict[str, str]:
        out: dict[str, str]
        term, out = self.term or {}, {}
        if not term:
            return out
        starts, ends = _date(term.get("starts_on")), _date(term.get("ends_on"))
        if starts and ends and ends <= starts:
            out["term.ends_on"] = "must be after starts_on"
        if today and ends and ends < today:
            out["term.ends_on"] = f"the term ended on {ends.isoformat()}: renew it (a later end)"
        if term.get("pilot") and not term.get("evaluation_on"):
            out["term.evaluation_on"] = "a pilot (expérimentation) says when it is evaluated"
        evaluation = _date(term.get("evaluation_on"))
        if evaluation and starts and ends and not starts <= evaluation <= ends:
            out["term.evaluation_on"] = "must fall within the term"
        signed = _date((self.signatories or {}).get("signed_on"))
        if signed and ends and signed > ends:
            out["signatories.signed_on"] = "must not be after the end of the term"
        return out

    def _counterpart_problems(self) -> dict[str, str | None]:
        counterpart = (self.signatories or {}).get("public_counterpart") or {}
        if not counterpart:
            return {}
        siren, cog = counterpart.get("siren"), counterpart.get("cog")
        if not siren and not cog:
            return {"signatories.public_counterpart": "identified by its SIREN or its COG code"}
        if counterpart.get("kind") == "state" and not siren:
            return {"signatories.public_counterpart.siren": "a State administration is identified by its SIREN"}
        if siren and siren_problem(siren):
            return {"signatories.public_counterpart.siren": siren_problem(siren)}
        if cog:
            geo = geography()
            if not (cog in geo.departments or cog in geo.regions or commune_valid(cog)):
                return {"signatories.public_counterpart.cog": f"unknown COG code {cog!r} (commune, département or région)"}
        return {}


def commitments_of(given: Iterable[str | Mapping[str, Any]] | None) -> dict[str, str | None]:
    """The commitments as {principle: text}, in the principles' order, from either form: a list
    of names (contract v1) or of {principle, text}."""
    if given is None:
        return {p: None for p in PRINCIPLES}
    out: dict[str, str | None] = {}
    for item in given:
        principle, text = (item, None) if isinstance(item, str) else (item["principle"], item.get("text"))
        out[principle] = text
    order = {p: i for i, p in enumerate(PRINCIPLES)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def plain(value: Any) -> Any:
    """Dates as ISO strings, recursively: a pact's document is plain JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value
