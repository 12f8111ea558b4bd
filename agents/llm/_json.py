"""Pulling a JSON value out of a model's reply, which may wrap it in prose or code fences."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and unpaired surrogates


def _clean(value: Any) -> Any:
    """`value` with control characters (NUL, ESC) and unpaired surrogates removed from every string: JSON
    escapes (\\u0000, \\udc80) let a reply carry them past the client, into file names, logs and the terminal."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    return value


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text`; raises ValueError naming what went wrong."""
    candidates = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    last_error: Exception | None = None
    for candidate in candidates:
        stripped = candidate.strip()
        if not stripped:
            continue
        try:
            return _clean(json.loads(stripped))
        except (json.JSONDecodeError, RecursionError) as error:  # nesting deeper than the parser's stack
            last_error = error
        for opener in ("{", "["):
            start = stripped.find(opener)
            if start < 0:
                continue
            try:
                value, _ = json.JSONDecoder().raw_decode(stripped[start:])
                return _clean(value)
            except (json.JSONDecodeError, RecursionError) as error:
                last_error = error
    raise ValueError(f"no JSON value in the reply ({last_error})")
