"""Server paths out of what the API and dashboard show: a path under the data home becomes relative.

Where labgate keeps its data says something about the server (user names, mount points, layout)
and nothing a reviewer needs: a run's files are named relative to the run, anything else under the
data home relative to the home.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any


def without_server_paths(value: Any, home: Path, run_dir: Path | None = None) -> Any:
    """`value` (JSON-shaped) with every mention of `run_dir` or `home` in its strings made relative.

    `<run_dir>/x` becomes `x`, `<home>/y` becomes `y`, either alone becomes `.`; a longer name that
    merely starts the same way (`<home>-old`) is left alone. Dictionary keys are rewritten too.
    """
    roots = ((str(run_dir),) if run_dir is not None else ()) + (str(home),)
    return _rewrite(value, roots, _pattern(roots))


@functools.lru_cache(maxsize=256)
def _pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{re.escape(root)})(?:/|(?![\\w.-]))" for root in roots))


def _relative(match: re.Match[str]) -> str:
    return "" if match.group(0).endswith("/") else "."


def _rewrite(value: Any, roots: tuple[str, ...], pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        # Most strings name no path: a substring test is far cheaper than running the pattern.
        return pattern.sub(_relative, value) if any(root in value for root in roots) else value
    if isinstance(value, dict):
        return {_rewrite(key, roots, pattern): _rewrite(item, roots, pattern) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rewrite(item, roots, pattern) for item in value]
    return value
