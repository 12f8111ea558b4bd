"""Plugins through entry points: workloads, gates and proposers found in installed distributions.

labgate's own workloads register exactly as a user's package would, through entry-point lines in
its `pyproject.toml`; a new workload is its own folders plus such lines, with no shared file edited.
Groups, each mapping a name to an importable object:

- `labgate.workloads`: workload name -> `tools.Workload` subclass
- `labgate.gates`: gate name -> `verifiers.Gate` subclass
- `labgate.proposers`: workload name -> the object that proposes that workload's experiments (`agents`)

A plugin that cannot be imported is an error naming the distribution and the entry point, raised
when that plugin is asked for: a broken third-party plugin never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TypeVar

from runs import LabgateError

WORKLOADS = "labgate.workloads"
GATES = "labgate.gates"
PROPOSERS = "labgate.proposers"

T = TypeVar("T")


class PluginError(LabgateError):
    """A plugin is missing, cannot be imported, or is not what its group requires."""


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        # The first distribution on the path wins, as for imports: an editable checkout before a wheel.
        found.setdefault(point.name, point)
    return found


def plugin_names(group: str) -> list[str]:
    """Every name registered in `group`, sorted."""
    return sorted(_entry_points(group))


def load_plugin(group: str, name: str, check: Callable[[object], T]) -> T:
    """The object registered as `name` in `group`, passed through `check` (which raises TypeError if unfit).

    Raises:
        PluginError: nothing is registered under `name`, its import fails, or `check` refuses it.
    """
    point = _entry_points(group).get(name)
    if point is None:
        known = ", ".join(plugin_names(group)) or "none"
        raise PluginError(f"no {group} plugin named {name!r} is installed (installed: {known})")
    try:
        loaded = point.load()
    except Exception as error:
        why = f"{type(error).__name__}: {error}"
        raise PluginError(f"{group} plugin {_origin(point)} cannot be loaded: {why}") from error
    try:
        return check(loaded)
    except TypeError as error:
        raise PluginError(f"{group} plugin {_origin(point)} is not usable: {error}") from None


def _origin(point: EntryPoint) -> str:
    """Which distribution registered `point`, for an error: reading a distribution's name parses its metadata
    file (about 5 ms), which a run's dozens of successful loads should not pay."""
    return f"{point.dist.name if point.dist else 'an unnamed distribution'}: {point.name} = {point.value}"


def forget_plugins() -> None:
    """Read the entry points again (after installing a distribution into a running process, or in tests)."""
    _entry_points.cache_clear()
