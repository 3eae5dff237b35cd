"""Numbers read from the environment, checked one way for every setting: unset or empty, the
default; else a finite number above 0, or an error naming the variable and what it got."""

import math
from typing import Mapping


class SettingError(ValueError):
    """A setting the environment gives wrong; the message names the variable."""


def positive_number(
    environ: Mapping[str, str],
    variable: str,
    default: float,
    unit: str = "",
    error: type[Exception] = SettingError,
) -> float:
    """`environ[variable]` as a float above 0 (`default` when unset or empty); `unit` ("seconds",
    "days") is said in the error, an instance of `error` (each caller's own kind)."""
    raw = environ.get(variable)
    if raw is None or raw == "":
        return float(default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise error(f"{variable} must be a number{' of ' + unit if unit else ''} (got {raw!r})") from None
    if not (value > 0 and math.isfinite(value)):
        raise error(f"{variable} must be above 0 (got {raw!r})")
    return value
