"""Who funds a programme: a public body named with its SIRET (an establishment, 14 digits) or its
SIREN (the body, 9 digits), both checked with the Luhn key as INSEE issues them."""

from dataclasses import asdict, dataclass
from typing import Any, Optional, cast

from spc.shared.core.identifiers import siren_problem, siret_problem

from ..exceptions import InvalidFunder


@dataclass(frozen=True)
class Funder:
    """`siren` is always known (a SIRET's first 9 digits); `siret` only when given."""

    name: str
    siren: str
    siret: Optional[str] = None

    @classmethod
    def of(cls, name: str | None, siret: str | None = None, siren: str | None = None) -> "Funder":
        """A funder from the request's `{name, siret}` or `{name, siren}`; InvalidFunder otherwise."""
        problems: dict[str, str | None] = {}
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
        # past the checks: a name, and a valid SIRET or else a valid SIREN (the casts)
        return cls(cast(str, name).strip(), siret[:9] if siret else cast(str, siren), siret)

    def view(self) -> dict[str, Any]:
        return asdict(self)
