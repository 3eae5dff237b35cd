"""Mutation testing in CI (issue 25; docs/mutation.md): every target's mutants are each killed by a
test, or listed in tests/mutation/survivors.toml with why they cannot change behaviour. A weakened
test, or new code in those modules without its test, leaves a survivor not listed, and this fails
naming it (with the entry to add, if it is truly equivalent). Each target's verdict is recorded
with a fingerprint of what it depends on (tests/mutation/judged.toml): a target whose module, tests,
declaration or survivors changed runs again here; an unchanged one's verdict stands. A changed
integration target (minutes to a quarter of an hour each) is not run again in CI's short suite: it
fails there, asking for `scripts/mutation --only NAME --record` with the change; the full suite
(SPC_TEST_FULL=1) runs it."""

import os
import subprocess
import sys

import pytest

from tests.mutation.run import ROOT, Mutant, fingerprint, judge, load_judged, load_survivors, toml_entry
from tests.mutation.targets import TARGETS

LONG = [t for t in TARGETS if not t.quick]


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_each_target_was_judged_on_its_current_code(target):
    """A target's verdict is recorded with a fingerprint of what it depends on
    (tests/mutation/judged.toml). Unchanged, it stands; changed (the module, its tests or its
    survivors), the target runs again here (a quick one in seconds to a minute, an integration
    one in minutes) and must pass."""
    recorded = load_judged().get(target.name)
    if recorded is not None and recorded["fingerprint"] == fingerprint(target, load_survivors()):
        assert recorded["survived"] == sum(1 for e in load_survivors() if e["module"] == target.module)
        return
    if not target.quick and os.environ.get("SPC_TEST_FULL") != "1":
        pytest.fail(
            f"{target.name} changed since its verdict (tests/mutation/judged.toml): run "
            f"scripts/mutation --only {target.name} --record and commit judged.toml with the change "
            f"(an integration target is run again in the full suite only, SPC_TEST_FULL=1)"
        )
    run = subprocess.run(
        [sys.executable, "-m", "tests.mutation.run", "--only", target.name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3500,
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    print(
        f"{target.name}: judged again (changed since tests/mutation/judged.toml); record it with "
        f"scripts/mutation --only {target.name} --record"
    )


def _result(*survivors):
    return {
        "mutants": 3,
        "killed": 3 - len(survivors),
        "timeouts": 0,
        "survivors": list(survivors),
        "baseline": 0.1,
        "seconds": 1.0,
    }


def test_a_survivor_not_listed_fails_and_a_listed_one_killed_since_must_go():
    target = next(t for t in TARGETS if t.name == "funding")
    listed = Mutant(
        "funding",
        target.module,
        "FundingAccount.award",
        "core/ReplaceComparisonOperator_NotEq_Gt",
        0,
        1,
        'if self.status != "active":',
        'if self.status > "active":',
    )
    new = Mutant(
        "funding",
        target.module,
        "Programme.commit",
        "core/ReplaceComparisonOperator_Gt_GtE",
        0,
        2,
        "if amount_cents > self.available_cents:",
        "if amount_cents >= self.available_cents:",
    )
    entry = {**{k: getattr(listed, k) for k in ("module", "definition", "operator", "was", "now")}, "why": "x"}
    assert judge({target: _result(listed)}, [entry], [target]) == ([], [])
    assert judge({target: _result(listed, new)}, [entry], [target]) == ([new], [])
    assert judge({target: _result()}, [entry], [target]) == ([], [entry])  # killed now: the list must say so
    assert judge({target: _result()}, [entry], []) == ([], [])  # not run in full: nothing said of it
    assert toml_entry(new).startswith('[[survivor]]\ntarget = "funding"')


def test_every_listed_survivor_says_why_and_names_a_target_s_module():
    modules = {t.module for t in TARGETS}
    for entry in load_survivors():
        assert entry["module"] in modules and entry["why"].strip(), entry


def test_a_long_target_s_fingerprint_moves_with_its_module_tests_and_survivors(tmp_path, monkeypatch):
    import tests.mutation.run as run

    target = next(t for t in LONG if t.name == "inbox-outbox")
    listed = load_survivors()
    ours = [e for e in listed if e["module"] == target.module]
    before = fingerprint(target, listed)
    assert fingerprint(target, [e for e in listed if e is not ours[0]]) != before  # a survivor unlisted
    assert fingerprint(target, [e for e in listed if e["module"] != target.module] + ours) == before  # order
    copy = tmp_path / "repo"
    for name in [target.module] + [a for a in target.tests + target.first if a.endswith(".py")]:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((ROOT / name).read_bytes())
    monkeypatch.setattr(run, "ROOT", copy)
    assert fingerprint(target, listed) == before
    (copy / target.module).write_text((ROOT / target.module).read_text() + "\n# changed\n")
    assert fingerprint(target, listed) != before
