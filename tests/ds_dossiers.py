"""Test dossiers: a pact body (tests/pacts.full_pact) written into DS champs through the example
mapping (deploy/ds/mapping.example.toml), as an applicant would fill in the démarche's form."""

import tomllib
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "ds" / "mapping.example.toml"
REVISION = "UHJvY2VkdXJlUmV2aXNpb24tMQ=="


def example_paths():
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return doc["revisions"][REVISION]


def champs_of(body, paths=None):
    """{champ id: (label, stringValue)} holding `body` as DS would give it back."""
    paths = paths or example_paths()
    out = {}
    for path, champ_id in paths.items():
        value = _get(body, path)
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "Oui" if value else "Non"
        out[champ_id] = (path.replace(".", " › "), None if value is None else str(value))
    return out


def _get(body, path):
    if path.startswith("commitments."):
        principle = path.split(".", 1)[1]
        return next((c["text"] for c in body.get("commitments", []) if c["principle"] == principle), None)
    node = body
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    return node
