"""INSEE's identifiers of legal units and establishments, as every service checks them: a SIREN
(9 digits) and a SIRET (its SIREN, then 5 digits), each with a Luhn check digit. La Poste's
SIREN is accepted as it is, and its establishments' SIRETs follow their own rule (their digits
sum to a multiple of 5)."""

import re

SIREN, SIRET = re.compile(r"^[0-9]{9}$"), re.compile(r"^[0-9]{14}$")
LA_POSTE = "356000000"


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def luhn_completed(digits: str) -> str:
    """`digits` with the check digit that makes the whole pass the Luhn check."""
    return next(digits + d for d in "0123456789" if luhn_valid(digits + d))


def siren_problem(siren: str) -> str | None:
    """Why `siren` is no SIREN (None when it is one): 9 digits, not all zeros, Luhn (La Poste's
    356000000 excepted)."""
    if not SIREN.fullmatch(siren or ""):
        return "must be 9 digits"
    if siren == "000000000":
        return "000000000 is not a SIREN"
    return None if siren == LA_POSTE or luhn_valid(siren) else "fails the Luhn check (a digit is wrong)"


def siret_problem(siret: str) -> str | None:
    """Why `siret` is no SIRET (None when it is one): 14 digits, a valid SIREN first, Luhn."""
    if not SIRET.fullmatch(siret or ""):
        return "must be 14 digits"
    if siren_problem(siret[:9]):
        return f"its first 9 digits are not a SIREN ({siren_problem(siret[:9])})"
    if luhn_valid(siret) or (siret[:9] == LA_POSTE and sum(map(int, siret)) % 5 == 0):
        return None
    return "fails the Luhn check (a digit is wrong)"
