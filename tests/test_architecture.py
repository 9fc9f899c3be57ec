"""The architecture's rules, checked on the source: light imports, no import cycles, a library
that knows nothing of the workflow engine, and nothing that points outside the repository."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "stanley"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict:
    """Module -> the library modules it imports anywhere in its text, function-local imports included."""
    files = {module_name(path): path for path in LIBRARY.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                edges.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names)
        graph[name] = {edge for edge in edges if edge in files and edge != name}
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node), on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_the_library():
    graph = import_graph()
    assert graph["stanley.presentation.report"] >= {"stanley.presentation.embed", "stanley.presentation.theorem"}  # real edges
    assert "stanley.diagnostics.verdicts" in graph["stanley.presentation.claims"]  # a function-local import counts
    assert cycles(graph) == []


def layer_graph(graph: dict) -> dict:
    """The import graph between subpackages (``stanley.presentation``...); a top-level module is its own node."""
    def layer(module):
        return ".".join(module.split(".")[:2])

    layers = {}
    for module, edges in graph.items():
        layers.setdefault(layer(module), set()).update(layer(e) for e in edges if layer(e) != layer(module))
    return layers


def test_no_import_cycles_between_layers():
    """A module-level check misses two packages importing each other through different modules
    (the report importing the diagnostics' section while the diagnostics drew with the report's
    helpers): the presentation sits on top of the diagnostics, and neither is in a cycle of layers."""
    layers = layer_graph(import_graph())
    assert "stanley.diagnostics" in layers["stanley.presentation"]
    assert "stanley.presentation" not in layers["stanley.diagnostics"]
    # the one cycle left is low down, two one-function edges (docs/architecture.md, section 6): a config
    # check builds a toy target; the tuning stage reads its pilots' run directories
    upper = {"stanley.presentation", "stanley.diagnostics", "stanley.learning", "stanley.images", "stanley.plan"}
    assert not [c for c in cycles(layers) if upper & set(c)]
    planted = layer_graph({"stanley.a.x": {"stanley.b.y"}, "stanley.b.y": set(), "stanley.b.z": {"stanley.a.w"},
                           "stanley.a.w": set()})
    assert cycles(planted) == [["stanley.a", "stanley.b"]]  # the check can fail


@pytest.mark.parametrize("module", ["stanley.experiment.config", "stanley.experiment.options", "stanley.experiment.names",
                                    "stanley.errors", "stanley.plumbing.io"])
def test_planning_modules_do_not_import_torch(module):
    """Every ``snakemake -n`` loads the config module; torch costs seconds on a loaded machine."""
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", f"{module} imports {result.stdout.strip()}"


def test_presentation_modules_do_not_import_torch():
    """Table, claims, figure and report jobs read files only; torch would cost each job seconds."""
    code = ("import sys, stanley.presentation.tables, stanley.presentation.claims, stanley.presentation.report, "
            "stanley.presentation.summaries, stanley.experiment.studies; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')[:3])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", result.stdout


ENGINE_NAMED = {
    # the version of every package that took part in a run, the workflow engine's included:
    # a name in a list of distributions, not an import
    "stanley/plumbing/provenance.py",
    # the report is what the workflow makes; where a section is missing it names the target
    # that makes it (text for the reader, not code)
    "stanley/presentation/templates/diagnostics.html.j2",
}


def test_the_library_knows_nothing_of_the_workflow_engine():
    """The workflow asks the library; the library never names it (so it can be driven by anything)."""
    hits = {str(path.relative_to(ROOT)) for path in LIBRARY.rglob("*")
            if path.is_file() and path.suffix in {".py", ".yaml", ".j2", ".csv", ".md"}
            and "snakemake" in path.read_text(errors="replace").lower()}
    assert hits <= ENGINE_NAMED, f"library files that name Snakemake: {sorted(hits - ENGINE_NAMED)}"


SHIPPED = ("presentation/templates", "presentation/reference")  # the package folders the report reads at run time


def test_the_wheel_ships_the_templates_and_reference_data_and_the_report_renders_from_it(tmp_path):
    """Build a wheel from a copy of the sources, unpack it, render a report from another folder."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(LIBRARY, source / "stanley", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel"), str(source)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("stanley-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(path.relative_to(ROOT)) for folder in SHIPPED for path in (LIBRARY / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    assert expected and expected <= names, f"missing from the wheel: {sorted(expected - names)}"

    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere.mkdir()
    code = ("import stanley; from stanley.presentation.report import render; print(stanley.__file__); "
            "print(render(results='no-results', out='index.html', scale='smoke'))")
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONNOUSERSITE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0].startswith(str(site))  # the unpacked wheel, not the checkout
    html = (elsewhere / "index.html").read_text()
    assert "smoke scale" in html and "Theorem 1" in html  # the packaged index template and its sections


OUTSIDE = ("../" + "shared", "DESIGN" + ".md", "/work" + "/")  # spelt in pieces so this file is no hit


def outside_references(root: Path) -> list:
    """``file:line: text`` for every tracked text line of the git checkout ``root`` that cites a
    path outside it; None when ``root`` is not a git checkout."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True)
    if listing.returncode != 0:
        return None
    hits = []
    for name in filter(None, listing.stdout.decode().split("\0")):
        path = root / name
        if not path.is_file():
            continue  # deleted in the working tree
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        for number, line in enumerate(data.decode(errors="replace").splitlines(), 1):
            hits += [f"{name}:{number}: {line.strip()}" for pattern in OUTSIDE if pattern in line]
    return hits


def test_nothing_in_the_repository_points_outside_it():
    """A clone holds everything it cites: docs live in docs/, reference data in the package."""
    hits = outside_references(ROOT)
    if hits is None:
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    assert not hits, "references outside the repository:\n" + "\n".join(hits)


def test_the_outside_reference_scan_finds_a_planted_hit(tmp_path):
    """The scan is only worth something if it can fail: a repository with one hit and one clean file."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "notes.md").write_text("fine\nsee " + OUTSIDE[1] + ", section 3\n")
    (tmp_path / "clean.md").write_text("see docs/readings.md\n")
    subprocess.run(["git", "add", "notes.md", "clean.md"], cwd=tmp_path, check=True)
    assert outside_references(tmp_path) == ["notes.md:2: see " + OUTSIDE[1] + ", section 3"]
