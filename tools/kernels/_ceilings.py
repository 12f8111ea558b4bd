"""This device's ceilings, measured per device and working-set size, cached on disk.

Bandwidth depends on where the working set lives (cache or memory), so the bandwidth probes run at
the same working-set size as each task size; FMA throughput is one number per device, measured again
after `FMA_REFRESH_SECONDS` and kept at the highest measured (a ceiling is the best the device reaches). The cache
is keyed by the device's identity, so a different machine or driver measures afresh. Per working set
there are two bandwidths: the triad (separate output, what fractions are scored against) and the
in-place update (the fastest bytes move at all, what the physics floor uses), each with the vector
width that reached it (the width the yardstick run before a candidate uses, `Yardstick`). The cache
file's name carries its format, so a cache written when one number stood for both is never read as either.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from sandboxes import only_owner_can_change
from tools.kernels._client import Worker

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 300.0

FMA_REFRESH_SECONDS = 3600.0
"""How long a cached FMA peak stands before a harness measures it again. The cache keeps the highest peak
measured: one probe on a quiet machine here ranged 125-177 GFLOP/s within seconds, and a first
measurement taken under load, kept for good, flattered every compute-bound fraction scored against it."""


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labgate" / "kernels"


class Ceilings:
    """Triad GB/s per working-set size and FMA GFLOP/s for one device; measured through a worker."""

    _lock = threading.Lock()

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.path = self.cache_dir / "ceilings-v2.json"

    def _load(self) -> dict[str, Any]:
        if self.path.exists() and not only_owner_can_change(self.path, os.geteuid()):
            # Every fraction and the physics floor divide by these numbers: a file another account could write
            # (rates of 1e300 passed a run that did nothing; rates of 1e-3 rejected every honest kernel) is
            # measured over, never read.
            log.warning("kernel ceilings in %s are not yours alone: measured again", self.path)
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _store(self, data: dict[str, Any]) -> None:
        """Keep the measurements for later runs; a cache folder that cannot be written (a read-only or
        missing HOME, a service account) costs the next run a new measurement, never this run."""
        temporary = self.path.with_suffix(f".tmp{os.getpid()}")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
            temporary.replace(self.path)
        except OSError as error:
            log.warning("kernel ceilings not cached in %s (%s): measured again next time", self.cache_dir, error)
            with contextlib.suppress(OSError):
                temporary.unlink()

    def for_device(self, worker: Worker, working_sets: list[int]) -> dict[str, Any]:
        """{"device", "fma_gflops", "triad_gbps": {bytes: GB/s}, "update_gbps": {bytes: GB/s},
        "triad_width": {bytes: width}, "update_width": {bytes: width}} for every working set, measuring
        what is missing.

        Every fraction of every later run divides by these numbers, so a cached one is used only when
        it is a finite positive rate; anything else in the file (zero, NaN, a string, a damaged entry)
        is measured again, as is a probe's answer that is not such a rate (it is never stored)."""
        device = worker.ensure()
        key = str(device["key"])
        wanted = set(working_sets)
        with self._lock:
            data = self._load()
            entry = _sound_entry(data.get(key), device)
            data[key] = entry
            tables = {name: entry.setdefault(name, {}) for name in (*_RATES, *_WIDTHS)}
            changed = False
            measured_at = entry.get("fma_measured_at", 0.0)
            now = time.time()
            if "fma_gflops" not in entry or not 0 <= now - measured_at < FMA_REFRESH_SECONDS:
                measured = _rate(_probe(worker, {"op": "fma"}), "gflops")
                cached = float(entry.get("fma_gflops", 0.0))
                # The highest stands, within reason: load lowers a probe by a third at most here, while a cached
                # peak twice the one measured now is another machine's, or no measurement at all.
                entry["fma_gflops"] = cached if measured < cached <= 2 * measured else measured
                entry["fma_measured_at"] = now
                changed = True
            for nbytes in sorted(wanted):
                if any(str(nbytes) not in table for table in tables.values()):
                    reply = _probe(worker, {"op": "triad", "bytes": nbytes})
                    tables["triad_gbps"][str(nbytes)] = _rate(reply, "gbps")
                    tables["update_gbps"][str(nbytes)] = _rate(reply, "update_gbps")
                    for name in _WIDTHS:
                        tables[name][str(nbytes)] = _width(reply, name)
                    changed = True
            if changed:
                self._store(data)
        found: dict[str, Any] = {"device": entry["device"], "fma_gflops": float(entry["fma_gflops"])}
        for name in _RATES:
            found[name] = {int(k): float(v) for k, v in tables[name].items() if int(k) in wanted}
        for name in _WIDTHS:
            found[name] = {int(k): int(v) for k, v in tables[name].items() if int(k) in wanted}
        return found


_RATES = ("triad_gbps", "update_gbps")
_WIDTHS = ("triad_width", "update_width")
VECTOR_WIDTHS = (1, 2, 3, 4, 8, 16)
"""The vector widths OpenCL C has; a cached width outside them is measured again."""


def _probe(worker: Worker, request: dict[str, Any]) -> dict[str, Any]:
    reply, _ = worker.request(request, {}, PROBE_TIMEOUT)
    if not reply.get("ok"):
        raise RuntimeError(f"ceiling probe {request['op']} failed: {reply.get('error')}")
    return reply


def _is_rate(value: Any) -> bool:
    """A finite positive number (a bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _sound_entry(stored: Any, device: dict[str, Any]) -> dict[str, Any]:
    """The cached entry of a device with only its usable rates kept; the rest is measured again."""
    entry: dict[str, Any] = {"device": device}
    if not isinstance(stored, dict):
        return entry
    if isinstance(stored.get("device"), dict):
        entry["device"] = stored["device"]
    if _is_rate(stored.get("fma_gflops")):
        entry["fma_gflops"] = float(stored["fma_gflops"])
        if _is_rate(stored.get("fma_measured_at")):
            entry["fma_measured_at"] = float(stored["fma_measured_at"])
    for table in _RATES:
        rates = stored.get(table)
        entry[table] = {
            str(size): float(rate)
            for size, rate in (rates.items() if isinstance(rates, dict) else [])
            if str(size).isdigit() and _is_rate(rate)
        }
    for table in _WIDTHS:
        widths = stored.get(table)
        entry[table] = {
            str(size): width
            for size, width in (widths.items() if isinstance(widths, dict) else [])
            if str(size).isdigit() and _is_width(width)
        }
    return entry


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in VECTOR_WIDTHS


def _width(reply: dict[str, Any], name: str) -> int:
    """A probe's best vector width; an answer that is not one fails the harness, naming it."""
    value: Any = reply.get(name)
    if not _is_width(value):
        raise RuntimeError(f"ceiling probe answered {name}={value!r}, not an OpenCL vector width; nothing was cached")
    return int(value)


def _rate(reply: dict[str, Any], name: str) -> float:
    """A probe's measured rate; a probe that answers no usable rate fails the harness, naming it."""
    value: Any = reply.get(name)
    if not _is_rate(value):
        raise RuntimeError(f"ceiling probe answered {name}={value!r}, not a finite positive rate; nothing was cached")
    return float(value)
