"""Who funds a programme: a public body named with its SIRET (an establishment, 14 digits) or its
SIREN (the body, 9 digits), both checked with the Luhn key as INSEE issues them."""
import re
from dataclasses import asdict, dataclass
from typing import Optional

from ..exceptions import InvalidFunder

SIRET, SIREN = re.compile(r"^[0-9]{14}$"), re.compile(r"^[0-9]{9}$")
LA_POSTE = "356000000"  # its establishments' SIRETs (but its head office's) have their digits sum to a multiple of 5


def luhn_valid(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siren_problem(siren):
    """Why `siren` is no SIREN (None when it is one)."""
    if not SIREN.fullmatch(siren):
        return "must be 9 digits"
    if siren == "000000000":
        return "000000000 is not a SIREN"
    return None if siren == LA_POSTE or luhn_valid(siren) else "fails the Luhn check (a digit is wrong)"


def siret_problem(siret):
    """Why `siret` is no SIRET (None when it is one): 14 digits, a valid SIREN first, Luhn."""
    if not SIRET.fullmatch(siret):
        return "must be 14 digits"
    if siren_problem(siret[:9]):
        return f"its first 9 digits are not a SIREN ({siren_problem(siret[:9])})"
    if luhn_valid(siret) or (siret[:9] == LA_POSTE and sum(map(int, siret)) % 5 == 0):
        return None
    return "fails the Luhn check (a digit is wrong)"


@dataclass(frozen=True)
class Funder:
    """`siren` is always known (a SIRET's first 9 digits); `siret` only when given."""
    name: str
    siren: str
    siret: Optional[str] = None

    @classmethod
    def of(cls, name, siret=None, siren=None):
        """A funder from the request's `{name, siret}` or `{name, siren}`; InvalidFunder otherwise."""
        problems = {}
        if not (name or "").strip():
            problems["funder.name"] = "the funder's name is required"
        if (siret is None) == (siren is None):
            problems["funder"] = "give the funder's siret or its siren (one of them)"
        elif siret is not None and siret_problem(siret):
            problems["funder.siret"] = siret_problem(siret)
        elif siren is not None and siren_problem(siren):
            problems["funder.siren"] = siren_problem(siren)
        if problems:
            raise InvalidFunder("the funder is not valid", {"fields": problems})
        return cls(name.strip(), siret[:9] if siret else siren, siret)

    def view(self):
        return asdict(self)
