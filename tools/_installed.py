"""The workloads installed here: every `labgate.workloads` entry point, loaded and configured.

labgate's own workloads are found exactly as a third party's: by the entry-point lines of the
distribution that ships them. One that cannot be loaded or configured is reported by name and left
out; it never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from tools._plugins import WORKLOADS, PluginError, load_plugin, plugin_names
from tools._workload import Workload


def _workload_named(name: str) -> Callable[[object], type[Workload]]:
    """The check an entry point `name` must pass: a Workload subclass that calls itself `name`."""

    def check(loaded: object) -> type[Workload]:
        if not (isinstance(loaded, type) and issubclass(loaded, Workload)):
            raise TypeError(f"{loaded!r} is not a subclass of tools.Workload")
        declared = getattr(loaded, "name", None)
        if declared != name:
            raise TypeError(f"{loaded.__name__}.name is {declared!r}, not the entry-point name {name!r}")
        return loaded

    return check


def workload_class(name: str) -> type[Workload]:
    """The Workload subclass registered as `name` in `labgate.workloads`.

    Raises:
        PluginError: no such entry point, its import fails, or it is not a Workload named `name`.
    """
    return load_plugin(WORKLOADS, name, _workload_named(name))


@dataclass(frozen=True)
class InstalledWorkloads:
    """The workloads that loaded, configured from the environment, and why the others did not."""

    workloads: list[Workload] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    """Workload name -> why it is unavailable (the plugin's error, naming its distribution)."""


def installed_workloads() -> InstalledWorkloads:
    """Every registered workload, each built from its settings (`Workload.configured`), sorted by name."""
    found = InstalledWorkloads()
    for name in plugin_names(WORKLOADS):
        try:
            found.workloads.append(workload_class(name).configured())
        except PluginError as error:
            found.problems[name] = str(error)
        except ValidationError as error:
            found.problems[name] = f"workload {name!r} is not configured: {_describe_settings_error(error)}"
    return found


def _describe_settings_error(error: ValidationError) -> str:
    """One line per bad setting, named as the variable a user sets (LABGATE_COQC, not coqc)."""
    problems = []
    for item in error.errors():
        where = f"LABGATE_{str(item['loc'][0]).upper()}" if item["loc"] else "(settings)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
