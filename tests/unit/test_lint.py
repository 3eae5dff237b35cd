"""The lint gate: ruff (pyflakes, pycodestyle, bugbear; its settings in pyproject.toml) finds nothing
in the product code, the tests, the benchmarks or the scripts, and its formatter would change
nothing (`ruff format`: one layout, so a diff shows only what changed). What it catches, a reviewer would
otherwise have to: a name used before it is bound, a lambda in a loop that reads the loop's last
value, a zip that silently drops the longer list's tail."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_code_is_formatted():
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, "run `ruff format .`:\n" + run.stdout + run.stderr
