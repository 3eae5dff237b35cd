"""The import rules of the tree (docs/architecture.md, "Layers"), read from the source with `ast`:
a module that imports across a rule fails here, naming the file, the line and the import.

- **The pure core** (`CORE`: the envelope, the events catalogue, the domain base, geography,
  identifiers...) imports the standard library, marshmallow and itself only: no SQL, no nameko,
  no eventlet, no broker client, nothing of the rest of `shared/`.
- **A service's `domain/`** (and the `exceptions.py` its rules raise) imports the core, the
  standard library and its own domain only.
- **A service never imports another service**; `shared/` never imports a service nor `spc/`'s
  tools (the CLI, the demo, the generators; the bare package `spc`, for where its data lies, is
  allowed).
"""
import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# where each top folder is installed (pyproject.toml's package-dir)
PACKAGES = {"shared": "spc.shared", "services": "spc.services", "spc": "spc"}

# the core is what pyproject.toml checks strictly in shared/ (one list: strict typing, pure imports)
STRICT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"][0]["module"]
CORE = {m.removesuffix(".*") for m in STRICT if m.startswith("spc.shared.")}
# what the core may use besides the standard library and itself
CORE_LIBRARIES = {"marshmallow"}
SERVICES = ("registry", "funding", "distribution", "audit")


def module_name(path):
    rel = path.relative_to(ROOT)
    top, rest = rel.parts[0], rel.parts[1:]
    parts = [*PACKAGES[top].split("."), *rest]
    parts[-1] = parts[-1].removesuffix(".py")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path):
    """(line, imported module) for each import of the file, relative ones made absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            for alias in node.names:  # `from . import envelope`: the module spc.shared.envelope
                sub = f"{prefix}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else prefix


def product_files():
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts and "data" not in path.parts:
                yield path


MODULES = {module_name(path) for path in product_files()}


def within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def is_stdlib(module):
    return module.split(".")[0] in sys.stdlib_module_names


def broken_rules(path):
    name = module_name(path)
    for line, imported in imports(path):
        where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
        if within(name, CORE) and not (within(imported, CORE) or is_stdlib(imported)
                                       or imported.split(".")[0] in CORE_LIBRARIES):
            yield f"{where}: the core imports only the core, the standard library and marshmallow"
        for service in SERVICES:
            own = f"spc.services.{service}"
            domain = {f"{own}.domain", f"{own}.exceptions"}  # its rules and the errors they raise
            if within(name, domain) and not (within(imported, CORE | domain) or is_stdlib(imported)):
                yield f"{where}: a domain imports only the core, its own domain and its exceptions"
            others = [f"spc.services.{s}" for s in SERVICES if s != service]
            if within(name, [own]) and within(imported, others):
                yield f"{where}: a service never imports another"
        tools = within(imported, ["spc"]) and not within(imported, ["spc.shared"]) and imported != "spc"
        if within(name, ["spc.shared"]) and (within(imported, ["spc.services"]) or tools):
            yield f"{where}: shared/ imports neither the services nor spc/'s tools"


def test_every_module_keeps_the_import_rules():
    broken = sorted({line for path in product_files() for line in broken_rules(path)})
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("source, path, expected", [
    ("import sqlalchemy\n", "shared/envelope.py", "the core imports only"),
    ("from ..persistence import make_engine\n", "shared/events/outbound.py", "the core imports only"),
    ("from spc.shared import outbox\n", "services/funding/domain/model.py", "a domain imports only"),
    ("from spc.services.registry.domain import model\n", "services/funding/handlers.py", "never imports another"),
    ("from spc.services.funding import orm\n", "shared/outbox.py", "shared/ imports neither"),
    ("from spc import cli\n", "shared/http.py", "shared/ imports neither"),
])
def test_an_import_across_a_rule_is_caught(tmp_path, monkeypatch, source, path, expected):
    target = ROOT / path
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == target else Path.open(self).read())
    assert any(expected in line for line in broken_rules(target))


@pytest.mark.parametrize("source, path", [
    ("from .errors import Rejection\nimport json\nfrom marshmallow import fields\n", "shared/envelope.py"),
    ("from spc.shared.domain import Aggregate\nfrom .events import X\n", "services/funding/domain/model.py"),
    ("from spc.shared import outbox\nfrom .domain import model\n", "services/funding/handlers.py"),
])
def test_an_import_within_the_rules_passes(monkeypatch, source, path):
    target = ROOT / path
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == target else Path.open(self).read())
    assert list(broken_rules(target)) == []
