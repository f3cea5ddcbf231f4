"""The package layout: one-way imports between the layers of ``sim/`` and no import cycle between its modules.

Layers, lowest first (docs/architecture.md): ``core`` (the model), ``mechanisms`` (policing mechanisms),
``analysis`` (tables, statistics, figures, reports), ``runner`` (single runs, sweeps, the CLI), ``evidence``
(parameters' provenance, validation), ``viz`` (the interactive page); the modules directly in ``sim/`` are the
commands. A layer imports only layers below it. Every import counts, at module level or inside a function, except
those under ``if TYPE_CHECKING:`` (type hints only, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ["core", "mechanisms", "analysis", "runner", "evidence", "viz"]
# what each layer may import besides itself
ALLOWED = {layer: set(LAYERS[:i]) for i, layer in enumerate(LAYERS)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> set[str]:
    """The ``sim`` modules a file imports when it runs (any depth, not under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sim")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] == "sim":
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def import_graph() -> nx.DiGraph:
    modules = {module_name(p): p for p in SIM.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in runtime_imports(path):
            while target not in modules and "." in target:  # `from sim.x import name`: name is not a module
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                graph.add_edge(name, target)
    return graph


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else None


def test_no_import_cycle():
    graph = import_graph()
    # a package's __init__ importing its own modules is not a cycle worth reporting; everything else is
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert not cycles, "import cycles inside sim/:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles[:10])


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_lower_layers(layer):
    graph = import_graph()
    bad = []
    for module in graph:
        if layer_of(module) != layer:
            continue
        for target in graph.successors(module):
            other = layer_of(target)
            if other is None:  # the top-level package or a command module
                if target != "sim":
                    bad.append(f"{module} -> {target} (a command module)")
            elif other != layer and other not in ALLOWED[layer]:
                bad.append(f"{module} -> {target}")
    assert not bad, f"{layer} imports layers above it:\n  " + "\n  ".join(bad)


def test_the_graph_sees_imports():
    """The test can fail: a module importing another is an edge of the graph."""
    graph = import_graph()
    assert graph.has_edge("sim.core.model", "sim.core.population")
    assert graph.has_edge("sim.runner.cli", "sim.runner.run")
