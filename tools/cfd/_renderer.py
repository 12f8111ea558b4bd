"""One renderer process, driven by `tools.cfd._render_pool`: `python tools/cfd/_renderer.py`.

It runs as a script beside `_draw.py` and loads that module alone (numpy and matplotlib, not the
`tools` package with its store and sandboxes), so it starts in the time matplotlib takes to import.
It reads requests from stdin and answers on the stdout it was started with, one pickle each way
per figure: a request names a drawing function of `_draw` with its arguments (arrays, builtins,
`types.SimpleNamespace`); the answer is None or the exception the drawing raised. Anything else
the process prints goes to stderr, so it cannot garble an answer. It ends when its stdin closes.
"""

from __future__ import annotations

import importlib
import os
import pickle
import sys
from types import ModuleType
from typing import BinaryIO

DRAWINGS = frozenset(
    {"field_panels", "profile_comparison", "residuals", "field_panels_tri", "solution_panels_tri", "curves"}
)


def answer(error: BaseException | None) -> bytes:
    """The pickled answer; an exception that cannot be pickled is sent as a RuntimeError naming it."""
    try:
        return pickle.dumps(error)
    except Exception:  # noqa: BLE001 - any unpicklable exception still becomes an answer
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))


def serve(drawing: ModuleType, requests: BinaryIO, answers: BinaryIO) -> None:
    """Draw each requested figure with `drawing` (the `_draw` module) until `requests` ends."""
    drawing.pyplot()
    while True:
        try:
            name, args, kwargs = pickle.load(requests)
        except EOFError:
            return
        error: BaseException | None = None
        try:
            if name not in DRAWINGS:
                raise ValueError(f"{name!r} is not a drawing function")
            getattr(drawing, name)(*args, **kwargs)
        except Exception as raised:  # noqa: BLE001 - the caller decides what a failed figure means
            error = raised
        answers.write(answer(error))
        answers.flush()


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr, never into an answer
    serve(importlib.import_module("_draw"), sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
