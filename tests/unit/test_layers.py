"""The import rules of the tree (docs/architecture.md, "Layers"), read from the source with `ast`:
a module that imports across a rule fails here, naming the file, the line and the import.

- **`shared/` in layers**, each a sub-package whose name says what it may import (`LAYERS`):
  `core` (pure: the envelope, the events catalogue, the domain base, geography, identifiers...)
  imports the standard library, marshmallow and itself only; `observe` (traces, metrics,
  failpoints) the core; `sql` (engines, the SQL unit of work, inbox and outbox, migrations) the
  core and `observe`, and no nameko, broker or HTTP library; `messaging` (the consumer, the
  publisher, the topology) and `web` (the admin and public HTTP, the staff edge, auth) those
  three, and not each other; `service` (what a nameko service class is made of) all of them.
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

CORE = {"spc.shared.core"}
# shared/'s layers: {sub-package: (the other sub-packages it may import, the libraries it may not)}
BROKER_CLIENTS = {"kombu", "amqp", "pika"}
LAYERS = {
    "core": (set(), None),  # None: nothing but the standard library and CORE_LIBRARIES
    "observe": ({"core"}, BROKER_CLIENTS | {"werkzeug"}),
    "sql": ({"core", "observe"}, BROKER_CLIENTS | {"nameko", "werkzeug"}),
    "messaging": ({"core", "observe", "sql"}, {"werkzeug"}),
    "web": ({"core", "observe", "sql"}, BROKER_CLIENTS),
    "service": ({"core", "observe", "sql", "messaging", "web"}, set()),
}
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
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            for alias in node.names:  # `from . import envelope`: the module spc.shared.core.envelope
                sub = f"{prefix}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else prefix


def product_files():
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts and "data" not in path.parts:
                yield path


MODULES = {module_name(path) for path in product_files()}


def layer_of(module):
    """The layer of shared/ a module is in (its sub-package), or None outside shared/."""
    parts = module.split(".")
    return parts[2] if parts[:2] == ["spc", "shared"] and len(parts) > 2 else None


def within(module, packages):
    return any(module == p or module.startswith(p + ".") for p in packages)


def is_stdlib(module):
    return module.split(".")[0] in sys.stdlib_module_names


def broken_rules(path):
    name = module_name(path)
    for line, imported in imports(path):
        where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
        if within(name, CORE) and not (within(imported, CORE) or is_stdlib(imported) or imported.split(".")[0] in CORE_LIBRARIES):
            yield f"{where}: the core imports only the core, the standard library and marshmallow"
        layer = layer_of(name)
        if layer is not None:
            allowed, forbidden = LAYERS[layer]
            other = layer_of(imported)
            if other not in (None, layer) and other not in allowed:
                yield f"{where}: shared/{layer} imports only shared/{{{', '.join(sorted(allowed))}}} and itself"
            if other is None and forbidden and imported.split(".")[0] in forbidden:
                yield f"{where}: shared/{layer} never imports {imported.split('.')[0]}"
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


def circles(graph):
    """The import circles of `graph` ({module: modules it imports}): its strongly connected
    components of two modules or more (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_modules_import_each_other():
    """No circle of imports in the product code, a function's own imports counted: a circle is two
    modules that cannot be understood (nor moved) apart."""
    graph = {}
    for path in product_files():
        name = module_name(path)
        graph[name] = {imported for _, imported in imports(path) if imported in MODULES and imported != name}
    assert circles(graph) == []
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]  # the check itself


def test_the_core_and_the_domains_are_typed_strictly():
    strict = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"][0]
    assert {"spc.shared.core", "spc.shared.core.*", "spc.services.*.domain"} <= set(strict["module"])
    assert strict["disallow_untyped_defs"] and strict["disallow_any_generics"]


def test_shared_holds_its_layers_only():
    """Every module of shared/ is in one of the layers (a new sub-package is placed in LAYERS)."""
    loose = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "shared").rglob("*.py")
        if p.parent == ROOT / "shared" and p.name != "__init__.py"
    )
    assert not loose, f"place them in a layer of shared/: {loose}"
    assert {p.name for p in (ROOT / "shared").iterdir() if (p / "__init__.py").is_file()} == set(LAYERS)


def test_every_module_keeps_the_import_rules():
    broken = sorted({line for path in product_files() for line in broken_rules(path)})
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    "source, path, expected",
    [
        ("import sqlalchemy\n", "shared/core/envelope.py", "the core imports only"),
        ("from ...sql.persistence import make_engine\n", "shared/core/events/outbound.py", "the core imports only"),
        ("from ..web.http import api\n", "shared/messaging/consumer.py", "shared/messaging imports only"),
        ("from ..messaging import topology\n", "shared/web/http.py", "shared/web imports only"),
        ("from ..service.ops import SpcService\n", "shared/sql/outbox.py", "shared/sql imports only"),
        ("import nameko.extensions\n", "shared/sql/persistence.py", "shared/sql never imports nameko"),
        ("from kombu import Connection\n", "shared/web/edge.py", "shared/web never imports kombu"),
        ("from spc.shared.sql import outbox\n", "services/funding/domain/model.py", "a domain imports only"),
        ("from spc.services.registry.domain import model\n", "services/funding/handlers.py", "never imports another"),
        ("from spc.services.funding import orm\n", "shared/sql/outbox.py", "shared/ imports neither"),
        ("from spc import cli\n", "shared/web/http.py", "shared/ imports neither"),
    ],
)
def test_an_import_across_a_rule_is_caught(tmp_path, monkeypatch, source, path, expected):
    target = ROOT / path
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == target else Path.open(self).read())
    assert any(expected in line for line in broken_rules(target))


@pytest.mark.parametrize(
    "source, path",
    [
        ("from .errors import Rejection\nimport json\nfrom marshmallow import fields\n", "shared/core/envelope.py"),
        ("from spc.shared.core.domain import Aggregate\nfrom .events import X\n", "services/funding/domain/model.py"),
        ("from spc.shared.sql import outbox\nfrom .domain import model\n", "services/funding/handlers.py"),
        ("from ..sql.persistence import check_database\nfrom ..observe import tracing\n", "shared/messaging/consumer.py"),
        ("from ..web import edge\nfrom ..messaging.consumer import URGENT\n", "shared/service/providers.py"),
    ],
)
def test_an_import_within_the_rules_passes(monkeypatch, source, path):
    target = ROOT / path
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == target else Path.open(self).read())
    assert list(broken_rules(target)) == []


# ---- the diagram of docs/architecture.md, checked against the imports -------------------------
# What each module of a service is, by its file name (a new module must be placed here: the test
# below names it). The diagram's arrows are the imports between these kinds, over the four services.
KINDS = {
    "service.py": "entrypoints",
    "public.py": "entrypoints",
    "pages.py": "entrypoints",
    "page.py": "entrypoints",
    "settings.py": "entrypoints",
    "handlers.py": "use cases",
    "ds_intake.py": "use cases",
    "schemas.py": "schemas",
    "exceptions.py": "domain",
    "repository.py": "storage",
    "orm.py": "storage",
    "registries.py": "adapters",
    "ds_client.py": "adapters",
    "demarches.py": "adapters",
    "mailer.py": "adapters",
    "anct_csv.py": "adapters",
}
NODES = {
    "entrypoints": "service.py & co: nameko entrypoints, HTTP, pages",
    "use cases": "handlers.py & co: use cases, one transaction each",
    "schemas": "schemas.py: HTTP bodies and answers",
    "domain": "domain/, exceptions.py: the rules, pure",
    "storage": "repository.py, orm.py: SQLAlchemy",
    "adapters": "adapters of outside systems",
    "core": "shared/core: envelope, events, domain base; pure",
    "plumbing": "shared/'s other layers: sql, messaging, web, observe, service",
    "tools": "spc/: CLI, runtime, generators",
}
MARK = "<!-- the diagram below is checked by tests/unit/test_layers.py: an arrow is an import -->"


def kind_of(module):
    parts = module.split(".")
    if parts[:2] == ["spc", "services"] and len(parts) > 3:
        if parts[3] == "domain":
            return "domain"
        return KINDS.get(parts[3] + ".py", f"unplaced: {module}")
    if within(module, CORE):
        return "core"
    if within(module, ["spc.shared"]):
        return "plumbing"
    if within(module, ["spc"]) and module != "spc" and not within(module, ["spc.services"]):
        return "tools"
    return None


def diagram():
    edges = set()
    for path in product_files():
        source = kind_of(module_name(path))
        for _, imported in imports(path):
            target = kind_of(imported)
            if source and target and source != target and not source.startswith("unplaced"):
                edges.add((source, target))
    names = {kind: kind.replace(" ", "_") for kind in NODES}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'  {names[k]}["{label}"]' for k, label in NODES.items()]
    order = list(NODES)
    lines += [f"  {names[a]} --> {names[b]}" for a, b in sorted(edges, key=lambda e: (order.index(e[0]), order.index(e[1])))]
    return "\n".join(lines + ["```"])


SHARED_MARK = "<!-- the diagram below is checked by tests/unit/test_layers.py: shared/'s layers, an arrow is an import -->"
LAYER_LABELS = {
    "service": "service: what a nameko service class is made of",
    "web": "web: admin and public HTTP, the staff edge, auth",
    "messaging": "messaging: consumer, publisher, topology, e-mail",
    "sql": "sql: engines, unit of work, inbox and outbox, migrations",
    "observe": "observe: traces, metrics, failpoints",
    "core": "core: envelope, events, domain base, rules; pure",
}


def shared_diagram():
    edges = set()
    for path in product_files():
        source = layer_of(module_name(path))
        for _, imported in imports(path):
            target = layer_of(imported)
            if source and target and source != target:
                edges.add((source, target))
    order = list(LAYER_LABELS)
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'  {name}["shared/{label}"]' for name, label in LAYER_LABELS.items()]
    lines += [f"  {a} --> {b}" for a, b in sorted(edges, key=lambda e: (order.index(e[0]), order.index(e[1])))]
    return "\n".join(lines + ["```"])


def test_shared_s_diagram_is_the_imports():
    assert set(LAYER_LABELS) == set(LAYERS)
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert SHARED_MARK in doc, f"docs/architecture.md lacks the diagram's mark: {SHARED_MARK}"
    shown = "```" + doc.split(SHARED_MARK, 1)[1].split("```", 2)[1] + "```"
    assert shown.strip() == shared_diagram(), (
        f"docs/architecture.md's diagram of shared/ is stale; the imports draw:\n{shared_diagram()}"
    )


def test_every_service_module_is_placed_in_the_diagram():
    unplaced = sorted({kind_of(module_name(p)) for p in product_files()} - set(NODES) - {None})
    assert not unplaced, f"add them to KINDS: {unplaced}"


def test_the_architecture_diagram_is_the_imports():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert MARK in doc, f"docs/architecture.md lacks the diagram's mark: {MARK}"
    shown = doc.split(MARK, 1)[1].split("```", 2)
    shown = "```" + shown[1] + "```"
    assert shown.strip() == diagram(), f"docs/architecture.md's diagram is stale; the imports draw:\n{diagram()}"
