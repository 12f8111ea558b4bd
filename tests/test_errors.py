"""One root exception: every error labgate defines derives from `runs.LabgateError`.

A front door that catches `LabgateError` must catch every failure labgate names for the user; an
exception class that forgets the root would escape it as a traceback. The builtin bases the classes
also keep (`ValueError`, `OSError`, `LookupError`...) are checked where callers rely on them.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from runs import LabgateError

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("runs", "sandboxes", "tools", "verifiers", "agents", "api")


def _package_names() -> list[str]:
    """Every package (a folder with `__init__.py`) of labgate, top level and nested."""
    names = []
    for top in PACKAGES:
        for init in sorted((REPO / top).rglob("__init__.py")):
            names.append(".".join(init.parent.relative_to(REPO).parts))
    return names


def _defined_errors() -> list[tuple[str, str]]:
    """(module, class) for every class named `*Error` defined at the top of a labgate module.

    Ruff's N818 makes every exception class end in `Error`, so the name finds them without importing
    the module first; the test then imports it and checks the class itself.
    """
    found = []
    for top in PACKAGES:
        for path in sorted((REPO / top).rglob("*.py")):
            relative = path.relative_to(REPO).with_suffix("")
            if "migrations" in relative.parts or relative.name == "__main__":
                continue
            module = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
            tree = ast.parse(path.read_text(), filename=str(path))
            found += [(module, node.name) for node in tree.body if isinstance(node, ast.ClassDef)]
    return [(module, name) for module, name in found if name.endswith(("Error", "Exception"))]


def _public_errors() -> list[tuple[str, str]]:
    """(package, name) for every exception class a package's `__init__` exports in `__all__`."""
    found = []
    for package in _package_names():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                found.append((package, name))
    return found


def test_the_walk_finds_the_packages_and_their_errors() -> None:
    """Guards the two walks below against silently finding nothing (a moved folder, a renamed root)."""
    packages = _package_names()
    assert {"runs", "tools", "tools.cfd", "sandboxes", "verifiers", "agents", "api"} <= set(packages)
    public = _public_errors()
    assert ("tools", "TaskError") in public
    assert ("sandboxes", "SandboxError") in public
    assert ("runs", "LabgateError") in public
    assert len(_defined_errors()) >= 30


@pytest.mark.parametrize(("package", "name"), _public_errors())
def test_every_public_exception_derives_from_labgate_error(package: str, name: str) -> None:
    error = getattr(importlib.import_module(package), name)
    assert issubclass(error, LabgateError), f"{package}.{name} does not derive from runs.LabgateError"


@pytest.mark.parametrize(("module", "name"), _defined_errors())
def test_every_defined_exception_derives_from_labgate_error(module: str, name: str) -> None:
    error = getattr(importlib.import_module(module), name)
    assert isinstance(error, type) and issubclass(error, BaseException), f"{module}.{name} is not an exception"
    assert issubclass(error, LabgateError), f"{module}.{name} does not derive from runs.LabgateError"


@pytest.mark.parametrize(
    ("module", "name", "builtin"),
    [
        ("tools", "TaskError", ValueError),
        ("tools", "ToolUnavailableError", RuntimeError),
        ("sandboxes", "SandboxPathError", ValueError),
        ("sandboxes", "SandboxTimeoutError", TimeoutError),
        ("runs", "RunNotFoundError", LookupError),
        ("runs", "ArtifactNotFoundError", LookupError),
        ("runs", "UntrustedFileError", OSError),
        ("verifiers._gate", "UnknownGateError", KeyError),
    ],
)
def test_errors_keep_the_builtin_base_callers_catch(module: str, name: str, builtin: type[BaseException]) -> None:
    """`except ValueError` (and the like) written before the root existed still catches them."""
    assert issubclass(getattr(importlib.import_module(module), name), builtin)


def test_a_builtin_base_keeps_its_message_and_attributes() -> None:
    """LabgateError comes first in the bases; the builtin's constructor and `str` must still apply."""
    from runs import UntrustedFileError

    error = UntrustedFileError("out/log", "a symlink")
    assert str(error) == "out/log: a symlink"
    assert isinstance(error, OSError) and isinstance(error, LabgateError)


def test_openfoam_missing_is_the_workloads_tool_unavailable_error(tmp_path: Path) -> None:
    """A missing OpenFOAM reaches the orchestrator as `tools.ToolUnavailableError`, with no re-raise."""
    from tools import ToolUnavailableError
    from tools.cfd import OpenFOAMConfig

    config = OpenFOAMConfig(bin_dir=tmp_path, project_dir=tmp_path)
    with pytest.raises(ToolUnavailableError, match=r"OpenFOAM not found: icoFoam missing from") as caught:
        config.require(["icoFoam"])
    assert type(caught.value).__name__ == "OpenFOAMUnavailableError"
