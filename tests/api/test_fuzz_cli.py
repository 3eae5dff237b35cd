"""schemathesis's own command, with every check (`--checks all`), against each service on
PostgreSQL and the real broker, as docs/operations.md ("Fuzzing the admin API") tells an
operator to run it: the formats of tests/api/formats.py (a SIREN passes the Luhn check, a COG
code exists), tests/api/schemathesis.toml (text without U+0000; the two pact operations whose
rules no JSON Schema states may answer a schema-valid request 400), the phases that stay on one
service (examples, coverage, fuzzing: the stateful phase follows links across the four services'
ports, which one base URL cannot serve). A few examples per operation here; the documented run
asks for more: SPC_FUZZ_EXAMPLES=100 ./scripts/test tests/api/test_fuzz_cli.py"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import TOKENS

from .story import replay

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("SPC_FUZZ_EXAMPLES", "2")
ROLES = {"registry": "registrar", "funding": "funding_officer", "distribution": "distribution_officer", "audit": "auditor"}


def schemathesis(api, service):
    tags = ["--include-tag", service] + (["--include-tag", "every service"] if service == "registry" else [])
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(ROOT / "tests/api/schemathesis.toml"),
        "run",
        str(ROOT / "openapi.yaml"),
        "--url",
        f"http://127.0.0.1:{api.ports[service]}",
        *tags,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "1",
        "-H",
        f"Authorization: Bearer {TOKENS[ROLES[service]]}",
    ]
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="tests.api.formats",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)


@pytest.mark.timeout(3000)
def test_every_check_of_schemathesis_passes_on_each_service(spc_pg, amqp_uri):
    api, _ = spc_pg
    replay(api, amqp_uri)  # real records, so generated requests reach past the 404s too
    failed = {}
    for service in ROLES:
        done = schemathesis(api, service)
        summary = [line for line in done.stdout.splitlines() if "generated" in line or "❌" in line]
        print(f"\n{service}: {' '.join(summary).strip()}")
        if done.returncode != 0:
            failed[service] = done.stdout[-6000:] + done.stderr[-2000:]
    assert not failed, "\n\n".join(f"== {s}\n{out}" for s, out in failed.items())
