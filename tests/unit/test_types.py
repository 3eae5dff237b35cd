"""The type gate: mypy (its settings in pyproject.toml's [tool.mypy]) finds nothing in the product
code, strict on the pure core (the envelope, the event catalogue, the aggregates' base, geography,
identifiers...) and on each service's domain, standard elsewhere. scripts/typecheck lays out the
`spc` package as installed and names the real files in mypy's report. What it catches, a reviewer
would otherwise have to: an attribute misspelt, an Optional read as if it were set, a payload of
the wrong shape handed across a module."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_nothing():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "typecheck")], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
