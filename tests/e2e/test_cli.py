"""The commands a newcomer types first."""

import json
import os
import subprocess
import sys

from tests.support import envelope


def spc(*args, env=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "spc.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )


def test_spc_demo_tells_the_whole_story_and_exits_0(tmp_path):
    result = spc("demo", env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SQLite databases in {tmp_path}" in result.stdout
    assert list(tmp_path.glob("spc-demo-*")) == []  # its databases, tokens and mapping removed
    for line in (
        "suspended",
        "frozen",
        "withdrawn",
        "funding_frozen",
        "reinstated",
        "'ok': True",
        "signed on",
        "no_ad_monetisation",
        "pact version 2 (versions [1, 2])",  # the pact (issue 11)
        "three reports of refused access relayed",
        "a minor finding opened by itself",
        "the auditor checked and resolved",  # agents, citizens, the service (issue 12)
        "one public request",
        "released 12000.00 €",  # anyone can check (issue 13)
        "(read by polling, no one typed it)",
        "→ active (the approval is hers)",  # DS (issue 20)
        "checked against the national registries: verified",
        "grant of 8000.00 € released by one officer",
        # issue 21: two people for money, a reminder e-mail, the public pages
        "refused, dual_control_required",
        "approved by the same person: refused, same_approver",
        "approved by funding_officer/daf-35: tranche 1 released",
        "e-mails received by the SMTP relay",
        "| Bonjour,",
        "funding agenda: ",
        "/public/pages/services?departement=35  (200,",
        "/funding  (200,",
        "The story is complete.",
    ):
        assert line in result.stdout, line


def test_spc_publish_refuses_an_invalid_file_before_sending_anything(tmp_path, amqp_uri):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(envelope("compliance.violation_reported", {"service_id": "s"})))
    result = spc("publish", str(bad), env={"AMQP_URI": amqp_uri})
    assert result.returncode == 2, result.stderr
    # every error at once, in one line: each field missing
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"spc publish: {bad}: ") and " schema errors: " in line, line
    for field in ("payload.principle", "payload.severity", "payload.summary", "payload.reported_by"):
        assert f"{field}: " in line, (field, line)


def test_spc_publish_says_what_a_list_holds(tmp_path, amqp_uri):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            envelope(
                "counter.upserted",
                {
                    "counter_id": "fs-1",
                    "name": "France services de Betton",
                    "commune_insee": "35024",
                    "department": "35",
                    "address": "",
                    "hours": {"lundi": "09:00-12:00"},
                },
            )
        )
    )
    result = spc("publish", str(bad), env={"AMQP_URI": amqp_uri})
    assert result.returncode == 2, result.stderr
    assert "payload.hours.lundi.value: Not a valid list: a list of strings." in result.stderr, result.stderr


def test_spc_counters_import_bundled_loads_the_file_spc_ships_and_wants_one_source(tmp_path):
    result = spc("counters", "import", "--bundled", env={"SPC_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0 and "2845 counters imported" in result.stdout, result.stderr
    for args in ((), ("--bundled", "spc/data/france-services-2024-08-01.csv")):
        refused = spc("counters", "import", *args, env={"SPC_DATA_DIR": str(tmp_path)})
        assert refused.returncode == 2 and "give the ANCT CSV file to import, or --bundled" in refused.stderr


def test_spc_counters_import_loads_the_anct_file(tmp_path):
    result = spc("counters", "import", "spc/data/france-services-2024-08-01.csv", env={"SPC_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "2845 counters imported" in result.stdout
