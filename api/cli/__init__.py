"""The command-line front door: `agent run`, `agent check` and the commands that inspect runs.

`app` and `main` are loaded on first use, so that the `agent` program (`api.cli._entry`) can arrange its
exit before the commands' modules are imported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.cli._main import app, main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from api.cli import _main

        return getattr(_main, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
