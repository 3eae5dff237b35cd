"""What a citizen service commits to, and the checks on its identifiers (pure Python)."""
import re
from dataclasses import dataclass, field

from spc.shared.events import PRINCIPLES

LEGAL_FORMS = ("association", "cooperative", "scic", "scop", "foundation", "company",
               "public_body", "informal_collective")
DEPARTMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-8]|98[4-9])$")
COMMUNE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})$")
# no @, control character or space on either side (written out: \s differs between Python and
# the JSON Schema regexes openapi.yaml readers use)
EMAIL = re.compile(r"^[^@\x00-\x20\x7f-\xa0]+@[^@\x00-\x20\x7f-\xa0]+\.[^@\x00-\x20\x7f-\xa0]+$")


def luhn_valid(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def siren_valid(siren):
    """A SIREN is 9 digits passing the Luhn check (La Poste's 356000000 is the known exception)."""
    return bool(re.fullmatch(r"[0-9]{9}", siren or "")) and (luhn_valid(siren) or siren == "356000000")


def rna_valid(rna):
    """An RNA number (répertoire national des associations) is W followed by 9 digits."""
    return bool(re.fullmatch(r"W[0-9]{9}", rna or ""))


def department_valid(code):
    return bool(DEPARTMENT.fullmatch(code or "")) and code != "20"


def commune_valid(code):
    return bool(COMMUNE.fullmatch(code or ""))


@dataclass
class Pact:
    name: str
    legal_form: str
    mission: str
    contact_email: str
    domains: list = field(default_factory=list)
    departments: list = field(default_factory=list)
    communes: list = field(default_factory=list)
    commitments: list = field(default_factory=lambda: list(PRINCIPLES))
    siren: str | None = None
    rna: str | None = None

    def problems(self):
        """Every rule the pact breaks, as {field: message}; empty when it is acceptable."""
        out = {}
        if self.legal_form not in LEGAL_FORMS:
            out["legal_form"] = f"must be one of {', '.join(LEGAL_FORMS)}"
        if self.siren is not None and not siren_valid(self.siren):
            out["siren"] = "must be 9 digits with a valid Luhn check"
        if self.rna is not None and not rna_valid(self.rna):
            out["rna"] = "must be W followed by 9 digits"
        if not EMAIL.fullmatch(self.contact_email or ""):
            out["contact_email"] = "must be an e-mail address"
        bad = [d for d in self.departments if not department_valid(d)]
        if bad:
            out["territories.departments"] = f"unknown INSEE department codes: {bad}"
        bad = [c for c in self.communes if not commune_valid(c)]
        if bad:
            out["territories.communes"] = f"not INSEE commune codes: {bad}"
        if not self.departments and not self.communes:
            out["territories"] = "at least one department or commune is required"
        bad = [p for p in self.commitments if p not in PRINCIPLES]
        if bad:
            out["commitments"] = f"unknown principles: {bad}"
        return out
