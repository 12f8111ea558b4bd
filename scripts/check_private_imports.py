"""Fail when a package imports another package's private module (`from tools.cfd._fields import ...`).

Each package speaks to the others through what its `__init__` exports; a private module is free to
change. Tests may reach inside (that is what unit tests do); the packages may not. The layering
itself is checked by import-linter (`lint-imports`, contracts in pyproject.toml).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("agents", "tools", "sandboxes", "verifiers", "runs", "api")


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


def main() -> int:
    found = private_imports(Path(__file__).resolve().parent.parent)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} import(s) of another package's private modules: export the name instead")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
