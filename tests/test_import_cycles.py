"""The import-circle check of scripts/check_private_imports.py: it finds a planted circle, and agents has none."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_private_imports", REPO / "scripts" / "check_private_imports.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_circle_of_modules_is_found_with_an_example_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "circular_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_a.py").write_text("from circular_pkg._b import B\nA = 1\n")
    # An import made for type checking only still ties the two files into one module.
    (package / "_b.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from circular_pkg._a import A\nB = 2\n"
    )
    (package / "_c.py").write_text("from circular_pkg._a import A\n")  # imports into the circle, not part of it
    monkeypatch.syspath_prepend(str(tmp_path))
    [found] = _checker().import_cycles("circular_pkg")
    assert "(circular_pkg._a, circular_pkg._b)" in found
    assert "circular_pkg._a -> circular_pkg._b -> circular_pkg._a" in found
    sys.modules.pop("circular_pkg", None)


def test_agents_has_no_import_circle() -> None:
    assert _checker().import_cycles("agents") == []
