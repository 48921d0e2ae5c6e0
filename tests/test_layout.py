"""The house: rooms in a fixed order, no import cycles, compute never imports render.

Imports are read from the source with ``ast``, so lazy imports inside functions count the
same as module-level ones: a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("compute", "render")

#: rooms of each stage, lowest first: a room may import only itself and rooms before it.
ORDER = {
    "compute": ["config", "model", "data", "execution", "training", "store", "landscape",
                "experiments", "curvature", "stage"],
    "render": ["assets", "scene", "color", "mesh", "camera", "overlay", "gl", "output",
               "pipeline", "explore", "sheet", "doctor", "parser", "commands", "cli", "api"],
}
#: the longest module the house allows (STYLE.md: a module over ~400 lines asks to be split).
MAX_LINES = 400
HEAVY = ("torch", "scipy", "moderngl")


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Project modules that ``name`` imports anywhere in its source (names without ``lossfilm.``)."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for target in targets:
            target = target.removeprefix("lossfilm.")
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _room(module: str) -> tuple[str, str]:
    parts = module.split(".")
    return parts[0], (parts[1] if len(parts) > 1 else "")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_lazy_imports():
    # the checker itself: a function-level import is an edge (or every test below is blind)
    assert "render.pipeline" in GRAPH["render.commands"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_compute_never_imports_render():
    wrong = {(m, d) for m, deps in GRAPH.items() if m.startswith("compute") for d in deps
             if d.startswith("render")}
    assert wrong == set()


@pytest.mark.parametrize("stage", PACKAGES)
def test_rooms_import_only_rooms_below_them(stage):
    order = ORDER[stage]
    rooms = {_room(m)[1] for m in MODULES if m.startswith(stage + ".")}
    assert rooms <= set(order), f"rooms not in the order: {sorted(rooms - set(order))}"
    wrong = []
    for module, deps in GRAPH.items():
        top, room = _room(module)
        if top != stage or not room:
            continue
        for dep in deps:
            dep_top, dep_room = _room(dep)
            if dep_top == stage and dep_room and order.index(dep_room) > order.index(room):
                wrong.append(f"{module} -> {dep}")
    assert wrong == []


def test_every_room_says_what_it_owns():
    for module, path in MODULES.items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc) > 20, f"{module}: no docstring on the room"


def test_no_module_is_too_long():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_object_annotations_where_a_type_is_known():
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            ann = getattr(node, "annotation", None) or getattr(node, "returns", None)
            if isinstance(ann, ast.Constant) and ann.value == "object":
                found.append(f"{module}:{node.lineno}")
    assert found == []


def test_authoring_commands_import_nothing_heavy(tmp_path):
    """validate, keys and schema answer without torch, scipy or moderngl."""
    code = (
        "import sys\n"
        "from lossfilm.render.cli import main\n"
        f"for argv in (['validate', {str(ROOT / 'scenes' / 'quickstart.yaml')!r}], ['keys'],\n"
        f"             ['schema', '-o', {str(tmp_path / 's.json')!r}]):\n"
        "    assert main(argv) in (0, None), argv\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
