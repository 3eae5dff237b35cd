"""Who funds a programme: a public body named with its SIRET (an establishment, 14 digits) or its
SIREN (the body, 9 digits), both checked with the Luhn key as INSEE issues them."""
from dataclasses import asdict, dataclass
from typing import Optional

from spc.shared.identifiers import siren_problem, siret_problem

from ..exceptions import InvalidFunder


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
