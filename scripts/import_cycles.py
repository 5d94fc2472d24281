"""List the imports between deepprior's modules and report import cycles.

Every ``import`` and ``from ... import`` counts, wherever it stands: at the top, inside a function, under
``if TYPE_CHECKING:`` (import-linter counts those too). ``from package import name`` is an edge to the
module ``package.name`` when there is one, else to ``package``. The implicit import of a parent package
(``deepprior.fit`` runs before ``deepprior.fit.loop``) is not an edge, as in import-linter.

Usage::

    python scripts/import_cycles.py                  # cycles through deepprior.fit and deepprior.physics
    python scripts/import_cycles.py --edges          # and every edge between deepprior modules
    python scripts/import_cycles.py --within deepprior  # cycles anywhere in the package

The exit status is 1 when a cycle goes through a module under one of the ``--within`` prefixes.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"


def module_names(root: Path, package: str = "deepprior") -> dict[str, Path]:
    """Every module of ``package`` under ``root``, by dotted name (a package by its ``__init__.py``)."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph(root: Path = ROOT, package: str = "deepprior") -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (anywhere in its source)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]  # the package relative imports start from
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = here.split(".")
                    base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module or ""
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                           for alias in node.names]
            for target in targets:
                found = _known(target, modules)
                if found is not None and found != name:
                    graph[name].add(found)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as the modules along it (breadth first)."""
    members, start = set(component), component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for step in sorted(graph[node] & members):
                if step == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if step not in parent:
                    parent[step] = node
                    following.append(step)
        frontier = following
    return [start]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder that holds the package")
    parser.add_argument("--within", nargs="+", default=["deepprior.fit", "deepprior.physics"],
                        help="report cycles through modules under these prefixes")
    parser.add_argument("--edges", action="store_true", help="list every edge between deepprior modules")
    args = parser.parse_args(argv)
    graph = import_graph(args.root)
    if args.edges:
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f"{name} -> {target}")

    def inside(m: str) -> bool:
        return any(m == p or m.startswith(p + ".") for p in args.within)

    bad = [c for c in strongly_connected(graph) if any(inside(m) for m in c)]
    for component in bad:
        print("cycle:", " -> ".join(a_cycle(graph, component)), f"(component: {', '.join(component)})")
    print(f"{sum(map(len, graph.values()))} imports between {len(graph)} modules; "
          f"{len(bad)} cycle(s) through {', '.join(args.within)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
