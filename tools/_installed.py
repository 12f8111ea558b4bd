"""The workloads installed here: every `labgate.workloads` entry point, loaded and configured.

labgate's own workloads are found exactly as a third party's: by the entry-point lines of the
distribution that ships them. One that cannot be loaded or configured is reported by name and left
out; it never hides the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
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
    loaded = WorkloadsOnDemand()
    return InstalledWorkloads([loaded[name] for name in loaded], dict(loaded.problems))


class WorkloadsOnDemand(Mapping[str, Workload]):
    """The registered workloads by name, each loaded and configured the first time it is asked for.

    A command about one task needs one workload: loading every other (the kernel and proof workloads import
    their harnesses, 80 ms) was start-up paid before its first solver. Iterating, or asking how many there
    are, loads them all, so a listing is complete. `problems` names each workload that was asked for and
    could not be loaded or configured, with the reason; it fills as they are asked for.
    """

    def __init__(self) -> None:
        self._names = plugin_names(WORKLOADS)
        self._loaded: dict[str, Workload] = {}
        self.problems: dict[str, str] = {}
        self._lock = threading.Lock()  # a server's threads may ask for the same workload at once

    def _load(self, name: str) -> Workload | None:
        with self._lock:
            if name in self._loaded or name in self.problems or name not in self._names:
                return self._loaded.get(name)
            try:
                self._loaded[name] = workload_class(name).configured()
            except PluginError as error:
                self.problems[name] = str(error)
            except ValidationError as error:
                self.problems[name] = f"workload {name!r} is not configured: {_describe_settings_error(error)}"
            return self._loaded.get(name)

    def __getitem__(self, name: str) -> Workload:
        loaded = self._load(name)
        if loaded is None:
            raise KeyError(name)
        return loaded

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in self._names if self._load(name) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _describe_settings_error(error: ValidationError) -> str:
    """One line per bad setting, named as the variable a user sets (LABGATE_COQC, not coqc)."""
    problems = []
    for item in error.errors():
        where = f"LABGATE_{str(item['loc'][0]).upper()}" if item["loc"] else "(settings)"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
