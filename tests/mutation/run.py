"""Mutation testing of the code that carries SPC's promises (issue 25; docs/mutation.md).

    scripts/mutation [--quick] [--only NAME ...] [--report FILE] [--record]

cosmic-ray's operators make the mutants of each target (tests/mutation/targets.py); each mutant is
applied to a copy of the checkout (never to the checkout itself: an interrupted run leaves nothing
mutated behind, and edits made during a run do not reach it) and the target's tests run in it in a
child forked from a warm parent, which has imported the third-party libraries once: about 0.3 s a
mutant instead of 2 s for a fresh `pytest`. A mutant whose tests still pass *survives*. Every
survivor must be listed, with one line saying why it cannot change behaviour, in
tests/mutation/survivors.toml; the run exits 1 on a survivor not listed (a test no longer guards a
promise, or new code came without its test) and, for the targets it ran in full, on a listed one
that no longer survives (the list must stay true).
"""

import argparse
import ast
import compileall
import difflib
import os
import shutil
import signal
import sys
import tempfile
import time
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SURVIVORS = ROOT / "tests" / "mutation" / "survivors.toml"
JUDGED = ROOT / "tests" / "mutation" / "judged.toml"  # every target's last verdict, by fingerprint
# the installed layout (pyproject's package-dir): spc, spc.services, spc.shared
LAYOUT = {"spc": "spc", "spc/services": "services", "spc/shared": "shared"}
# imported once by the warm parent, so that each child only imports SPC and its tests
WARM = (
    "pytest",
    "requests",
    "pika",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "marshmallow",
    "kombu",
    "amqp",
    "nameko.containers",
    "nameko.events",
    "nameko.rpc",
    "nameko.web.handlers",
    "nameko.messaging",
    "nameko.timer",
    "alembic.command",
    "alembic.config",
    "prometheus_client",
    "click",
    "yaml",
    "werkzeug",
    "pg8000",
    "apispec",
    "jsonschema",
)


@dataclass(frozen=True)
class Mutant:
    target: str
    module: str  # path in the repository
    definition: str  # qualified name of the function (or class, or <module>) it is in
    operator: str
    occurrence: int
    line: int
    was: str = ""  # the changed line(s), before and after
    now: str = ""

    @property
    def key(self):
        """What identifies a mutant across runs and edits elsewhere in the file."""
        return (self.module, self.definition, self.operator, self.was, self.now)


def definitions_by_line(source):
    """[(first line, last line, qualified name)] of every def and class, innermost last."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                spans.append((first, child.end_lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def enclosing(spans, line):
    found = "<module>"
    for first, last, name in spans:
        if first <= line <= last:
            found = name  # spans are in visiting order: an inner definition comes after its outer one
    return found


def mutants_of(target, path):
    """Every mutant cosmic-ray's operators make in `path`, kept if it lies in the target's
    definitions."""
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    spans = definitions_by_line(path.read_text(encoding="utf-8"))
    module_ast = get_ast_from_path(path)
    for name in cosmic_ray.plugins.operator_names():
        operator_class = cosmic_ray.plugins.get_operator(name)
        if operator_class.arguments():  # those need arguments: none configured
            continue
        operator = operator_class()
        positions = (start for node in ast_nodes(module_ast) for start, _ in operator.mutation_positions(node))
        for occurrence, start in enumerate(positions):
            definition = enclosing(spans, start[0])
            if target.definitions is None or definition in target.definitions:
                yield Mutant(target.name, target.module, definition, name, occurrence, start[0])


def copy_sources(into):
    """The checkout (its tests, the files they read) with SPC laid out as installed under spc/:
    the children run there, so an edit to the checkout during a run changes nothing of it."""
    shutil.copytree(
        ROOT, into, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache")
    )
    for dest, source in LAYOUT.items():
        if dest != "spc":
            shutil.copytree(ROOT / source, into / dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # compiled once: a child then compiles only the mutated module (write_mutant drops its .pyc)
    compileall.compile_dir(into, quiet=1, workers=1)


def write_mutant(path, code):
    """Write a module's code, and drop its compiled form: Python checks a .pyc by the source's
    mtime and size, which two mutants written within a second may share."""
    for pyc in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
        pyc.unlink()
    path.write_text(code, encoding="utf-8")


def installed_path(copy, module):
    """Where `module` (a repository path) lies in the copy of the installed layout."""
    top, _, rest = module.partition("/")
    return copy / "spc" / top / rest if top in ("services", "shared") else copy / module


def warm_up(copies):
    # bytecode is written and read as usual: write_mutant drops the mutated module's .pyc before
    # each mutant, and pytest keeps the test modules rewritten (their cost, 0.3 s, paid once)
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # schemathesis/hypothesis: 1 s each, not needed
    import eventlet

    eventlet.monkey_patch()  # as tests/conftest.py does, before anything imports socket
    import importlib

    for name in WARM:
        importlib.import_module(name)
    assert "spc" not in sys.modules, "the warm parent must not import SPC: each child imports it mutated"


FAST = ("--assert=plain", "--tb=no", "-p", "no:warnings")  # a mutant's run: only pass or fail matters


def start_tests(copy, tests, log):
    """Start pytest on `tests` in a child forked from this warm parent, SPC imported from `copy`;
    returns the child's pid (its own process group)."""
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.setpgid(0, 0)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(copy)
        for name in [m for m in sys.modules if m == "tests" or m.startswith("tests.")]:
            del sys.modules[name]  # this runner's own package, from the checkout: the copy's is used
        sys.path[:] = [str(copy)] + [p for p in sys.path if p not in ("", str(ROOT))]
        os.environ["PYTHONPATH"] = str(copy)  # subprocesses the tests start see the mutant too
        import spc  # from the copy, whatever the editable install maps

        assert Path(spc.__file__).is_relative_to(copy), spc.__file__
        import pytest

        # no:unraisableexception: its gc.collect() at the end costs 0.3 s a run
        code = int(
            pytest.main(
                [
                    "-x",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "no:unraisableexception",
                    "-o",
                    "addopts=",
                    f"--basetemp={copy.parent / 'pytest'}",
                    *tests,
                ]
            )
        )
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def finished(pid, deadline):
    """The child's exit code once it ended; None while it runs; "timeout" (killed) past `deadline`."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return os.waitstatus_to_exitcode(status)
    if time.monotonic() > deadline:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return "timeout"
    return None


def run_tests(copy, tests, timeout, log):
    """Run the tests in a child and wait: its exit code, or "timeout"."""
    pid, deadline = start_tests(copy, tests, log), time.monotonic() + timeout
    while (code := finished(pid, deadline)) is None:
        time.sleep(0.01)
    return code


def changed_lines(before, after):
    diff = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if line[:1] in "-+" and not line.startswith(("---", "+++"))
    ]
    was = " / ".join(line[1:].strip() for line in diff if line.startswith("-"))
    now = " / ".join(line[1:].strip() for line in diff if line.startswith("+"))
    return was, now


def run_target(target, copies, logs, out):
    """{"mutants": n, "killed": n, "timeouts": n, "survivors": [Mutant], "seconds": s}: the
    mutants run on as many workers as there are copies, each applied to its worker's copy."""
    from cosmic_ray.mutating import mutate_code
    import cosmic_ray.plugins

    paths = [installed_path(copy, target.module) for copy in copies]
    original = paths[0].read_text(encoding="utf-8")
    started = time.monotonic()
    baseline = run_tests(copies[0], target.tests, 600, logs / f"{target.name}.baseline.log")
    took = time.monotonic() - started
    if baseline != 0:
        tail = (logs / f"{target.name}.baseline.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{tail}\nmutation: {target.name}: its tests fail before any mutation (exit {baseline})")
    timeout = 5 + 4 * took * len(copies)  # the workers share the machine
    result = {"mutants": 0, "killed": 0, "timeouts": 0, "survivors": [], "baseline": took}
    pending = []
    for mutant in mutants_of(target, paths[0]):
        mutated = mutate_code(original, cosmic_ray.plugins.get_operator(mutant.operator)(), mutant.occurrence)
        if mutated is not None:  # cosmic-ray may count a place it then does not change
            was_now = dict(zip(("was", "now"), changed_lines(original, mutated), strict=True))
            pending.append((Mutant(**{**mutant.__dict__, **was_now}), mutated))
    result["mutants"] = total = len(pending)
    out(f"{target.name}: {total} mutants in {target.module} (tests pass in {took:.1f} s)")
    # a mutant's tests run in stages (the target's `first` tests alone, then all of them): most
    # mutants are killed by the first stage, which imports much less
    stages = [tuple(target.first), tuple(target.tests)] if target.first else [tuple(target.tests)]
    running = {}  # worker: (pid, deadline, mutant, stage)
    try:
        while pending or running:
            for worker in range(len(copies)):
                if worker not in running and pending:
                    mutant, mutated = pending.pop(0)
                    write_mutant(paths[worker], mutated)
                    pid = start_tests(copies[worker], FAST + stages[0], logs / f"mutant-{worker}.log")
                    running[worker] = (pid, time.monotonic() + timeout, mutant, 0)
            for worker, (pid, deadline, mutant, stage) in list(running.items()):
                code = finished(pid, deadline)
                if code is None:
                    continue
                if code == 0 and stage + 1 < len(stages):  # passed the first stage: all the tests now
                    pid = start_tests(copies[worker], FAST + stages[stage + 1], logs / f"mutant-{worker}.log")
                    running[worker] = (pid, time.monotonic() + timeout, mutant, stage + 1)
                    continue
                del running[worker]
                write_mutant(paths[worker], original)
                if code == "timeout":
                    result["timeouts"] += 1
                elif code == 0:
                    result["survivors"].append(mutant)
                else:
                    result["killed"] += 1
                done = result["killed"] + result["timeouts"] + len(result["survivors"])
                if done % 50 == 0:
                    out(f"  {done}/{total}, {len(result['survivors'])} surviving")
            time.sleep(0.005)
    finally:
        for pid, *_ in running.values():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for path in paths:
            write_mutant(path, original)
    result["survivors"].sort(key=lambda m: (m.line, m.operator, m.occurrence))
    result["seconds"] = time.monotonic() - started
    return result


def load_survivors(path=SURVIVORS):
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("survivor", [])
    for entry in entries:
        missing = {"module", "definition", "operator", "was", "now", "why"} - set(entry)
        if missing or not entry.get("why", "").strip():
            raise SystemExit(f"mutation: {path}: an entry lacks {sorted(missing) or ['why']}: {entry}")
    return entries


def toml_entry(mutant):
    def quoted(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(
        [
            "[[survivor]]",
            f"target = {quoted(mutant.target)}",
            f"module = {quoted(mutant.module)}",
            f"definition = {quoted(mutant.definition)}",
            f"operator = {quoted(mutant.operator)}",
            f"was = {quoted(mutant.was)}",
            f"now = {quoted(mutant.now)}",
            'why = ""',
            "",
        ]
    )


def judge(results, listed, ran_in_full):
    """(new survivors, listed entries that no longer survive) over the targets that ran."""
    known = {}
    for entry in listed:
        key = (entry["module"], entry["definition"], entry["operator"], entry["was"], entry["now"])
        known[key] = entry
    new, seen = [], set()
    for result in results.values():
        for mutant in result["survivors"]:
            (seen.add(mutant.key) if mutant.key in known else new.append(mutant))
    modules = {t.module for t in ran_in_full}
    stale = [entry for key, entry in known.items() if key[0] in modules and key not in seen]
    return new, stale


def fingerprint(target, listed):
    """A hash of what a target's verdict depends on: its module, its test files, its declaration
    and its listed survivors. The same fingerprint, the same mutants and the same tests: the
    verdict recorded for it still holds."""
    import hashlib

    digest = hashlib.sha256(repr((target.module, target.definitions, target.tests, target.first)).encode())
    files = [target.module] + sorted({a for a in target.tests + target.first if a.endswith(".py")})
    for name in files:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    for entry in sorted(
        (e for e in listed if e["module"] == target.module), key=lambda e: (e["definition"], e["operator"], e["was"], e["now"])
    ):
        digest.update(repr(sorted(entry.items())).encode())
    return digest.hexdigest()


def load_judged(path=JUDGED):
    if not path.exists():
        return {}
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def record_judged(results, listed, path=JUDGED):
    """Write the fingerprint of each target run here that passed (every survivor explained)."""
    judged = load_judged(path)
    for target, r in results.items():
        judged[target.name] = {
            "fingerprint": fingerprint(target, listed),
            "judged_on": time.strftime("%Y-%m-%d"),
            "mutants": r["mutants"],
            "survived": len(r["survivors"]),
        }
    lines = [
        "# Each target's last verdict: scripts/mutation --only NAME --record (or --quick --record) writes",
        "# them after a run where every survivor is explained. tests/mutation/test_mutation.py runs a",
        "# target again only when its fingerprint (module, tests, declaration, listed survivors) changed.",
        "",
    ]
    for name, v in sorted(judged.items()):
        keys = ("fingerprint", "judged_on", "mutants", "survived")
        lines += [f"[{name}]"] + [f"{k} = {v[k]!r}".replace("'", '"') for k in keys] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def report(results, new, stale, listed, seconds, quick):
    lines = [
        "# Mutation run",
        "",
        f"`scripts/mutation{' --quick' if quick else ''}`, {time.strftime('%Y-%m-%d')}: "
        f"{sum(r['mutants'] for r in results.values())} mutants in {seconds:.0f} s.",
        "",
        "| target | module | mutants | killed | timed out | survived | tests' own time | run |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for target, r in results.items():
        lines.append(
            f"| {target.name} | `{target.module}` | {r['mutants']} | {r['killed']} | {r['timeouts']} | "
            f"{len(r['survivors'])} | {r['baseline']:.1f} s | {r['seconds']:.0f} s |"
        )
    why = {(e["module"], e["definition"], e["operator"], e["was"], e["now"]): e["why"] for e in listed}
    lines += ["", "## Survivors, each explained (tests/mutation/survivors.toml)", ""]
    for r in results.values():
        for m in r["survivors"]:
            lines.append(
                f"- `{m.module}` `{m.definition}` ({m.operator.removeprefix('core/')}): "
                f"`{m.was}` → `{m.now}`: {why.get(m.key, '**not explained**')}"
            )
    if new or stale:
        lines += ["", f"**{len(new)} survivor(s) not explained, {len(stale)} listed that no longer survive.**"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    from .targets import TARGETS

    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the targets CI runs")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these targets")
    parser.add_argument("--report", type=Path, help="write the report (markdown) here")
    parser.add_argument("--survivors", type=Path, default=SURVIVORS, help="the explained survivors")
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"when every survivor is explained, record the targets' fingerprints in {JUDGED.name}",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="mutants run at once, each on its own copy of the sources (default: 2, or 1 on one core)",
    )
    args = parser.parse_args(argv)
    names = {t.name for t in TARGETS}
    if args.only and set(args.only) - names:
        parser.error(f"unknown target(s) {sorted(set(args.only) - names)}; known: {sorted(names)}")
    chosen = [t for t in TARGETS if (not args.quick or t.quick) and (not args.only or t.name in args.only)]
    listed = load_survivors(args.survivors)

    def out(text):
        print(text, flush=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="spc-mutation-") as tmp:
        copies, logs = [Path(tmp) / f"worker-{i}" / "src" for i in range(max(1, args.jobs))], Path(tmp) / "logs"
        logs.mkdir()
        for copy in copies:
            copy_sources(copy)
        warm_up(copies)
        results = {}
        for target in chosen:  # each target's survivors said as soon as it is done (a long run)
            results[target] = run_target(target, copies, logs, out)
            for mutant in results[target]["survivors"]:
                out(
                    f"  survived: {mutant.definition} ({mutant.operator.removeprefix('core/')}) line {mutant.line}: "
                    f"{mutant.was} -> {mutant.now}"
                )
    seconds = time.monotonic() - started
    new, stale = judge(results, listed, chosen)
    text = report(results, new, stale, listed, seconds, args.quick)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    out(text)
    for mutant in new:
        out(f"mutation: a survivor not explained in {args.survivors.name}, line {mutant.line}:\n" + toml_entry(mutant))
    for entry in stale:
        out(
            f"mutation: listed in {args.survivors.name} but killed now (remove it): "
            f"{entry['module']} {entry['definition']} {entry['operator']}: {entry['was']} -> {entry['now']}"
        )
    if args.record and not new and not stale:
        record_judged(results, listed)
        out(f"recorded in {JUDGED.relative_to(ROOT)}: {', '.join(t.name for t in results)}")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
