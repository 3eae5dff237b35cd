"""The recipe of docs/verify-journal.md, taken from the page itself and run by a bare Python (no
site-packages, so no SPC code) on an export that `spc export journal` made of a real audit
database: it says OK, and names the first bad line of a changed, a removed and a reordered entry."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spc.runtime.fleet import spec
from spc.services.audit import handlers, orm
from spc.shared.core import envelope
from spc.shared.messaging.consumer import apply_batch, apply_once
from spc.shared.core.envelope import Event

DOC = Path(__file__).resolve().parents[2] / "docs" / "verify-journal.md"
SID = "svc_journal_recipe"


def recipe():
    """The page's first ```python block: the recipe (plain Python, standard library only)."""
    code = re.search(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M).group(1)
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(code))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= sys.stdlib_module_names, imported
    assert len(code.splitlines()) <= 35
    return code


def _journal_outbox(database):
    """What audit published, journaled as its journal lane does on spc.events."""
    with database.engine.connect() as conn:
        bodies = [r.body for r in conn.execute(orm.outbox.select().order_by(orm.outbox.c.id))]
    events = [envelope.parse(b.encode("utf-8")) for b in bodies]
    apply_batch(database.uow(), events, handlers.JOURNAL.apply, inbox="journal")


def journaled_audit_database(url):
    """Audit's database after a short story: a service approved, a violation reported about it, a
    citizen's report; every event journaled and chained."""
    database = spec("audit").open(url)
    try:
        approved = Event(
            "registry.service_approved",
            {"service_id": SID, "status": "active", "version": 2, "name": "Crèche « Les Lutins »"},
            "registry",
        )
        apply_batch(database.uow(), [approved], handlers.JOURNAL.apply, inbox="journal")
        apply_once(database.uow(), approved, handlers.on_registry_event)
        apply_batch(
            database.uow(),
            [
                Event(
                    "compliance.violation_reported",
                    {
                        "service_id": SID,
                        "principle": "no_ad_monetisation",
                        "severity": "major",
                        "summary": "Publicité vendue",
                        "reported_by": "inspection-35",
                    },
                    "inspection",
                ),
                Event(
                    "usager.report_submitted",
                    {"service_id": SID, "category": "advertising", "text": "Des affiches partout"},
                    "vox",
                ),
            ],
            handlers.apply_facts,
        )
        _journal_outbox(database)
        handlers.chain_journal(database.uow())
        assert handlers.verify_journal(database.uow())["length"] >= 5
    finally:
        database.close()


def spc_export(url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPC_") and not k.endswith("_DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "spc.cli", "export", "journal", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(env, AUDIT_DATABASE_URL=url),
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def export(db_url, tmp_path):
    journaled_audit_database(db_url)
    path = tmp_path / "journal.jsonl"
    said = spc_export(db_url, "--out", str(path)).stderr
    lines = path.read_text(encoding="ascii").splitlines(keepends=True)
    assert f"{len(lines)} journal entries written to {path}; the last: seq {len(lines)}" in said
    return db_url, path, lines


def run_recipe(tmp_path, lines, *start):
    script, data = tmp_path / "verify_journal.py", tmp_path / "checked.jsonl"
    script.write_text(recipe(), encoding="utf-8")
    data.write_text("".join(lines), encoding="ascii")
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(data), *map(str, start)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def test_the_recipe_verifies_a_real_export(export, tmp_path):
    _, _, lines = export
    last = json.loads(lines[-1])
    assert run_recipe(tmp_path, lines) == (0, f"OK: chained up to seq {last['seq']}, hash {last['hash']}")
    bodies = [json.loads(json.loads(line)["body"]) for line in lines]
    report = next(b for b in bodies if b["event_type"] == "usager.report_submitted")
    assert report["payload"]["text"] is None  # personal data never in the journal, so never exported
    assert "Crèche « Les Lutins »" in [b["payload"].get("name") for b in bodies]


def _changed(line):
    entry = json.loads(line)
    entry["body"] = entry["body"].replace("major", "minor")
    assert entry["body"] != json.loads(line)["body"]
    return json.dumps(entry, separators=(",", ":")) + "\n"


def test_the_recipe_names_the_first_bad_line_of_a_changed_entry(export, tmp_path):
    _, _, lines = export
    n = next(i for i, line in enumerate(lines) if "violation_reported" in line)
    code, said = run_recipe(tmp_path, lines[:n] + [_changed(lines[n])] + lines[n + 1 :])
    assert code == 1 and said.startswith(f"BAD line {n + 1} ") and "changed" in said, said


def test_the_recipe_names_the_first_bad_line_of_a_removed_entry(export, tmp_path):
    _, _, lines = export
    code, said = run_recipe(tmp_path, lines[:2] + lines[3:])
    assert code == 1 and said.startswith("BAD line 3: seq 4 where 3 was expected"), said


def test_the_recipe_names_the_first_bad_line_of_two_entries_swapped(export, tmp_path):
    _, _, lines = export
    code, said = run_recipe(tmp_path, lines[:2] + [lines[3], lines[2]] + lines[4:])
    assert code == 1 and said.startswith("BAD line 3: seq 4 where 3 was expected"), said


def test_an_export_after_a_held_seq_verifies_from_its_hash_and_only_from_it(export, tmp_path):
    url, _, lines = export
    held = json.loads(lines[1])  # the checkpoint an outsider holds: seq 2
    newer = tmp_path / "newer.jsonl"
    spc_export(url, "--after", "2", "--out", str(newer))
    rest = newer.read_text(encoding="ascii").splitlines(keepends=True)
    assert rest == lines[2:]
    assert run_recipe(tmp_path, rest, 2, held["hash"])[0] == 0
    code, said = run_recipe(tmp_path, rest, 2, "f" * 64)
    assert code == 1 and said.startswith("BAD line 1 (seq 3): prev_hash"), said
    assert run_recipe(tmp_path, rest)[1].startswith("BAD line 1: seq 3 where 1 was expected")


def test_the_export_goes_to_stdout_by_default_and_says_which_database_on_stderr(export):
    url, path, lines = export
    result = spc_export(url)
    assert result.stdout == "".join(lines) == path.read_text(encoding="ascii")
    assert result.stderr.startswith("database: ")


def test_an_export_with_no_audit_database_or_nowhere_to_write_fails_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPC_") and not k.endswith("_DATABASE_URL")}
    data_dir, out = tmp_path / "var", tmp_path / "journal.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "spc.cli", "export", "journal", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(env, SPC_DATA_DIR=str(data_dir)),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"spc export journal: audit's database does not exist: no file "
        f"{data_dir / 'audit.db'} (has audit run here? set SPC_DATA_DIR "
        f"or AUDIT_DATABASE_URL)"
    )
    assert not data_dir.exists() and not out.exists()
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    spec("audit").open(url).close()
    nowhere = tmp_path / "missing" / "journal.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "spc.cli", "export", "journal", "--out", str(nowhere)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(env, AUDIT_DATABASE_URL=url),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"spc export journal: cannot write {nowhere}: no such file or directory"
