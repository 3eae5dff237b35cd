"""Whether the identity a pact declares (legal form, SIREN, RNA number) is what the national
registries say of it.

The registries answer through a port (`IdentityRegistries`: Sirene as API Recherche
d'entreprises serves it, in production; a fake offline). What a record means for the pact is
decided here, with no I/O:

- `verified`: the unit exists, is active (`etat_administratif` A), its legal nature (INSEE's
  *catégorie juridique*) agrees with the declared legal form, and an association's RNA number is
  the one the registry knows;
- `mismatch`: it exists, and some of that disagrees (`fields` says which, and what the registry
  says);
- `not_found`: no unit has that SIREN;
- `unverified`: nothing could be asked (the registry down, over its limits, or no registry
  serves that identifier): accepted, and asked again later;
- `not_applicable`: nothing to check (an informal collective has no identifier).
"""

from dataclasses import dataclass, field
from typing import Any

VERIFIED, MISMATCH, NOT_FOUND, UNVERIFIED, NOT_APPLICABLE = ("verified", "mismatch", "not_found", "unverified", "not_applicable")
OUTCOMES = (VERIFIED, MISMATCH, NOT_FOUND, UNVERIFIED, NOT_APPLICABLE)
SETTLED = (VERIFIED, MISMATCH, NOT_FOUND, NOT_APPLICABLE)  # asked again only when unverified

# INSEE's catégories juridiques (level I is the first digit, level II the first two) that each
# legal form may have: 92 associations (déclarée 9220, reconnue d'utilité publique 9230, de droit
# local 9260...), 93 fondations, 5 sociétés commerciales (SA, SARL, SAS: a SCOP or a SCIC is one
# of them), 63 coopératives agricoles, 4 and 7 personnes morales de droit public
NATURES = {
    "association": ("92",),
    "foundation": ("93",),
    "company": ("5",),
    "cooperative": ("5", "63"),
    "scic": ("5",),
    "scop": ("5",),
    "public_body": ("4", "7"),
}
# legal forms that are part of the social and solidarity economy by law (loi n° 2014-856)
ESS_BY_LAW = ("scic", "scop", "cooperative")


@dataclass(frozen=True)
class UnitRecord:
    """What a registry says of a legal unit."""

    siren: str
    name: str
    active: bool  # etat_administratif "A" (else "C", ceased)
    legal_nature: str  # INSEE catégorie juridique, four digits
    association: bool = False  # complements.est_association
    rna: str | None = None  # complements.identifiant_association
    ess: bool = False  # complements.est_ess


@dataclass(frozen=True)
class IdentityCheck:
    outcome: str
    fields: dict[str, str] = field(default_factory=dict)  # for a mismatch: field -> what the registry says
    source: str = ""  # which registry answered, or why none did

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "fields": dict(self.fields), "source": self.source}


class RegistryUnavailable(Exception):
    """The registry could not answer now (down, slow, over its limits, breaker open)."""


class IdentityRegistries:
    """The port. `unit(siren)`: the UnitRecord, or None when no unit has that SIREN;
    `association(rna)`: the same for an association known by its RNA number (only where
    `serves_rna`: the RNA has associations Sirene does not list). Both raise
    RegistryUnavailable when they cannot tell. `name`: how the check names its source."""

    name = rna_name = "registries"
    serves_rna = False

    def unit(self, siren: str) -> UnitRecord | None:  # pragma: no cover - an interface
        raise NotImplementedError

    def association(self, rna: str | None) -> UnitRecord | None:
        raise RegistryUnavailable("no registry configured for RNA numbers alone")


def assess(legal_form: str, siren: str | None, rna: str | None, record: UnitRecord | None, source: str = "") -> IdentityCheck:
    """The outcome of comparing a declared identity with `record` (None: not found)."""
    if record is None:
        return IdentityCheck(NOT_FOUND, {"siren": "no unit with this SIREN in Sirene"}, source)
    fields: dict[str, str] = {}
    if not record.active:
        fields["etat_administratif"] = "ceased (C): the unit is closed"
    natures = NATURES.get(legal_form)
    if natures and not record.legal_nature.startswith(natures):
        fields["legal_form"] = (
            f"the registry's legal nature {record.legal_nature} is not that of a {legal_form.replace('_', ' ')}"
        )
    if legal_form == "association" and not record.association and "legal_form" not in fields:
        fields["legal_form"] = "the registry does not know the unit as an association"
    if legal_form in ESS_BY_LAW and not record.ess:
        fields["est_ess"] = "the registry does not list the unit in the social and solidarity economy"
    if rna and record.rna and record.rna != rna:
        fields["rna"] = f"the registry knows this association as {record.rna}"
    if rna and not record.rna and legal_form == "association":
        fields["rna"] = "the registry knows no RNA number for this unit"
    return IdentityCheck(MISMATCH if fields else VERIFIED, fields, source)


def check(registries: IdentityRegistries, legal_form: str, siren: str | None, rna: str | None) -> IdentityCheck:
    """Ask the registries about a declared identity; never raises for the registry's sake."""
    if legal_form == "informal_collective" or not (siren or rna):
        return IdentityCheck(NOT_APPLICABLE, {}, "")
    try:
        if siren:
            record = registries.unit(siren)
        else:  # an association known only by its RNA number: the RNA, where a registry serves it
            record = registries.association(rna)
            if record is None:
                return IdentityCheck(NOT_FOUND, {"rna": "no association with this RNA number in the RNA"}, registries.rna_name)
    except RegistryUnavailable as exc:
        return IdentityCheck(UNVERIFIED, {}, f"{registries.name if siren else registries.rna_name}: {exc}")
    return assess(legal_form, siren, rna, record, registries.name if siren else registries.rna_name)
