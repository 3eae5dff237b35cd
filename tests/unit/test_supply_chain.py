"""The product code passes bandit (PyCQA's security linter) with no finding, and every finding
silenced with `# nosec` says why, in a comment above it (docs/security.md, "Supply chain")."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("shared", "services", "spc")


def test_bandit_finds_nothing_in_the_product_code():
    run = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", *PRODUCT, "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert found == [] and run.returncode == 0, "\n".join(found) or run.stderr


def test_each_nosec_names_its_check_and_says_why_just_above():
    silenced = 0
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            lines = path.read_text(encoding="utf-8").splitlines()
            for n, line in enumerate(lines):
                if "# nosec" not in line or line.lstrip().startswith("#"):
                    continue
                silenced += 1
                ids = re.search(r"# nosec((?: B\d{3})+)\s*$", line)
                assert ids, f"{path}:{n + 1}: a # nosec names the checks it silences (# nosec B104)"
                block, k = [], n - 1  # the comment lines right above it
                while k >= 0 and lines[k].strip().startswith("#"):
                    block.insert(0, lines[k].strip())
                    k -= 1
                why = block and re.fullmatch(r"#\s*nosec" + re.escape(ids.group(1)) + r":\s*(.{20,})", block[0])
                assert why, f"{path}:{n + 1}: the comment above says why (# nosec{ids.group(1)}: <reason>)"
    assert silenced >= 1  # the check above ran on something
