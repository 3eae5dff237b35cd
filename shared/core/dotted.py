"""Dotted paths into nested dicts: `{"payload": {"amount": 1}}` holds `payload.amount = 1`. How
SPC names a field in an error (shared/core/envelope.py) and a cell of a mapping table
(services/registry/domain/dossiers.py)."""

from typing import Any, Iterator, Mapping


def leaves(tree: Mapping[Any, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every value that is not itself a dict, depth first, in order."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaves(value, path + ".")
        else:
            yield path, value
