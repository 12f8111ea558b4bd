"""Values as strict JSON can carry them: what the API answers must parse in every client.

A stored metric may be NaN or infinite (a diverged solver's error, a gate's ratio over zero), and
Python's encoder writes those as bare `NaN`/`Infinity`, which no JSON parser accepts (a browser's
`JSON.parse` throws on the event, `JSONResponse` refuses to encode and the request fails with a
500). Here they become `null`, the value JSON has for "no number".
"""

from __future__ import annotations

import json
import math
from typing import Any


def strict_json(value: Any) -> Any:
    """`value` (JSON-shaped) with every non-finite float replaced by None; other values unchanged."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item) for item in value]
    return value


def dumps_strict(value: Any, **options: Any) -> str:
    """`json.dumps` of `strict_json(value)`: text every JSON parser reads (`default=str` for the rest)."""
    return json.dumps(strict_json(value), allow_nan=False, default=str, **options)
