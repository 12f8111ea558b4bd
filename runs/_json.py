"""JSON as the store reads it back (a column, a search's log), without the database layer."""

from __future__ import annotations

import json
from typing import Any

from runs._errors import DamagedRecordError


def read_json(text: str | bytes) -> Any:
    """A JSON column's value, with any lone surrogate in its strings replaced by U+FFFD.

    JSON may escape half a UTF-16 pair (`"\\ud800"`); Python decodes it to a string that cannot be
    encoded as UTF-8, so a run stored with one (before submissions were checked for them) would make
    every page and answer that shows it fail. Only text holding such an escape is walked.
    """
    try:
        raw = text.decode("utf-8") if isinstance(text, bytes | bytearray) else text  # a driver may hand bytes
        value = json.loads(raw)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        # (Nesting past the decoder's depth is labgate's own deep value, e.g. a search's logged parameters:
        # its RecursionError goes to the readers that show such values as too deep.)
        raise DamagedRecordError(
            f"a record in the run store is damaged (a JSON column reads {str(text)[:60]!r}: {error}); "
            "labgate never writes that, so the database was changed by something else"
        ) from None
    return _valid_text(value) if "\\ud" in raw.lower() else value


def json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines text (a search's log), in order, each read as `read_json` reads a column.

    A line that is not an object is skipped: a line cut short by a process that died while writing it, or a
    value nested past the decoder's depth. A log is read for what it holds, never refused for one bad line."""
    objects: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            value = read_json(line)
        except (DamagedRecordError, RecursionError):
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects


def _valid_text(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {_valid_text(key): _valid_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_valid_text(item) for item in value]
    return value
