"""The README's quick start, taken from the README itself and run by bash, line for line, against a
real `spc up` (embedded, as a newcomer starts it), from the repository's root: a change to the
product that breaks the README breaks the build. Only the four ports are changed (to ports held
for this test); every `#=> X` comment is an output line the command before it must print."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spc.cli.client import reserve_ports
from tests.e2e.test_cli_errors import clean_env
from tests.e2e.test_spc_up_local import ready

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORTS = {"registry": 8001, "funding": 8002, "distribution": 8003, "audit": 8004}


def quickstart():
    """The ```sh block after `<!-- quickstart: commands -->` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"<!-- quickstart: commands -->\n```sh\n(.*?)^```", text, re.S | re.M).group(1)


def expected_lines(script):
    return [m.group(1).strip() for m in re.finditer(r"#=> (.+)$", script, re.M)]


def test_the_quick_start_runs_as_written_against_spc_up(tmp_path):
    assert shutil.which("curl"), "curl is needed (the quick start uses it)"
    script = quickstart()
    expected = expected_lines(script)
    assert len(expected) >= 8, expected
    ports = reserve_ports(list(DEFAULT_PORTS))
    for name, default in DEFAULT_PORTS.items():
        assert f"127.0.0.1:{default}" in script, name
        script = script.replace(f"127.0.0.1:{default}", f"127.0.0.1:{ports[name]}")
    bin_dir = str(Path(sys.executable).parent)  # `spc` and `python3` as the virtualenv has them
    env = clean_env(
        SPC_DATA_DIR=str(tmp_path / "var"),
        SPC_BIND="127.0.0.1",
        PATH=f"{bin_dir}:{clean_env()['PATH']}",
        **{f"{n.upper()}_PORT": str(p) for n, p in ports.items()},
    )
    up = subprocess.Popen(
        [sys.executable, "-m", "spc.cli", "up"], env=env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        ready(up, ports)
        ran = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
    finally:
        up.terminate()
        log = up.communicate(timeout=60)[0]
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}\n--- spc up:\n{log[-3000:]}"
    assert ran.stdout.splitlines() == expected, ran.stderr
    assert "staff tokens:" in log and "France Services counters" in log, log[:2000]


@pytest.mark.parametrize(
    "path",
    [
        "docs/examples/registry-register.json",
        "docs/examples/funding-create-programme.json",
        "docs/examples/funding-release-tranche.json",
        "docs/examples/audit-resolve-finding.json",
    ],
)
def test_the_files_the_quick_start_sends_are_there(path):
    assert f"@{path}" in quickstart() and (ROOT / path).is_file()
