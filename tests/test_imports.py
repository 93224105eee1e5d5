"""The package's import graph (read from the sources with ast, drawn with networkx) has no circle,
between modules or between packages, and the lower layers do not import the upper ones.

    python -m pytest tests/test_imports.py    # the command that shows it
"""

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eqprop_analog"
# what each package may not import: the layers above it
FORBIDDEN = {
    "circuit": {"spice", "engines", "learning", "devices", "sweep", "theory", "handoff", "config",
                "config_files", "run", "cli"},
    "spice": {"engines", "learning", "sweep", "theory", "handoff", "config", "config_files", "run",
              "cli"},
    "engines": {"learning", "sweep", "theory", "handoff", "config", "config_files", "run", "cli"},
    "devices": {"engines", "learning", "sweep", "theory", "handoff", "config", "config_files",
                "run", "cli"},
    "analysis": {"learning", "devices", "sweep", "theory", "handoff", "config", "config_files",
                 "run", "cli"},
    "learning": {"sweep", "theory", "handoff", "config", "config_files", "run", "cli"},
    "theory": {"sweep", "handoff", "cli"},
    "handoff": {"sweep", "theory", "cli"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        source = module_name(path)
        graph.add_node(source)
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                if name.startswith("eqprop_analog.") or name == "eqprop_analog":
                    graph.add_edge(source, name)
    return graph


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_module_imports_itself_in_a_circle():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, f"import circles: {cycles}"


def test_no_circle_between_packages():
    modules = import_graph()
    packages = nx.DiGraph()
    for a, b in modules.edges:
        if package_of(a) and package_of(b) and package_of(a) != package_of(b):
            packages.add_edge(package_of(a), package_of(b))
    cycles = list(nx.simple_cycles(packages))
    assert not cycles, f"circles between packages: {cycles}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(package):
    modules = import_graph()
    wrong = sorted((a, b) for a, b in modules.edges
                   if package_of(a) == package and package_of(b) in FORBIDDEN[package])
    assert not wrong, f"{package}/ imports what sits above it: {wrong}"
