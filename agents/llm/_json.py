"""Pulling a JSON value out of a model's reply, which may wrap it in prose or code fences."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text`; raises ValueError naming what went wrong."""
    candidates = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    last_error: Exception | None = None
    for candidate in candidates:
        stripped = candidate.strip()
        if not stripped:
            continue
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as error:
            last_error = error
        for opener in ("{", "["):
            start = stripped.find(opener)
            if start < 0:
                continue
            try:
                value, _ = json.JSONDecoder().raw_decode(stripped[start:])
                return value
            except json.JSONDecodeError as error:
                last_error = error
    raise ValueError(f"no JSON value in the reply ({last_error})")
