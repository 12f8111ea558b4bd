"""Fail when a package imports another package's private module (`from tools.cfd._fields import ...`),
or when the modules of a package listed in ACYCLIC import each other in a circle.

Each package speaks to the others through what its `__init__` exports; a private module is free to
change. Tests may reach inside (that is what unit tests do); the packages may not. The layering
itself is checked by import-linter (`lint-imports`, contracts in pyproject.toml); circles inside a
package are found here, on the import graph import-linter builds (grimp), imports made only for
type checking included: a circle of modules is one module in several files.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("agents", "tools", "sandboxes", "verifiers", "runs", "api")
ACYCLIC = ("agents",)
"""Packages whose modules must not import each other in a circle (the others may join once theirs are broken)."""


def private_imports(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                modules: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                for module in modules:
                    parts = module.split(".")
                    if parts[0] in PACKAGES and parts[0] != package and any(p.startswith("_") for p in parts[1:]):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: imports private {module}")
                        break
    return found


def _strongly_connected(modules: list[str], imports: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: every group of two or more modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, pending = work[-1]
            child = next(pending, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child]))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def import_cycles(package: str) -> list[str]:
    """One line per circle of imports among `package`'s modules, with one import chain that closes it."""
    import grimp  # installed with import-linter

    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    imports = {module: set(graph.find_modules_directly_imported_by(module)) for module in modules}
    found = []
    for group in _strongly_connected(modules, imports):
        first = group[0]
        chains = [graph.find_shortest_chain(importer=other, imported=first) for other in imports[first] & set(group)]
        back = min((chain for chain in chains if chain), key=len, default=())
        example = " -> ".join((first, *back))
        found.append(f"{package}: modules import each other in a circle ({', '.join(group)}), e.g. {example}")
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    found = private_imports(root)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} import(s) of another package's private modules: export the name instead")
    cycles = [line for package in ACYCLIC for line in import_cycles(package)]
    for line in cycles:
        print(line)
    if cycles:
        print(f"{len(cycles)} import circle(s): move what both sides need into a module that imports neither")
    return 1 if found or cycles else 0


if __name__ == "__main__":
    sys.exit(main())
