"""Backoff on failed authentication, per client address, in bounded memory.

A token can be guessed only as fast as the server answers; after `max_failures` failures within
`window_seconds` an address is refused (429) until its oldest failure leaves the window. At most
`max_clients` addresses are remembered: the least recently failing one is forgotten first, so a
flood of addresses costs a fixed amount of memory and never blocks an address that did not fail.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailedAuthLimiter:
    """Counts failed authentications per client address and says how long a blocked one must wait."""

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window_seconds: float = 60.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and now - times[0] >= self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None when it is not blocked."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return None
            return max(1, math.ceil(self.window_seconds - (now - times[0])))

    def failed(self, client: str) -> None:
        """Record one failure of `client` (its oldest failures beyond `max_failures` are dropped)."""
        with self._lock:
            now = self._clock()
            times = self._recent(client, now)
            if times is None:
                times = deque(maxlen=self.max_failures)
                self._failures[client] = times
                while len(self._failures) > self.max_clients:
                    self._failures.popitem(last=False)
            self._failures.move_to_end(client)
            times.append(now)

    def __len__(self) -> int:
        with self._lock:
            return len(self._failures)
