"""What every request handler of the app shares: settings, store, launcher and the worker pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from agents import RunLauncher
from api._settings import Settings
from api.rest._ratelimit import FailedAuthLimiter
from runs import RunStore

if TYPE_CHECKING:
    from api.rest._worker import WorkerPool


@dataclass
class AppState:
    settings: Settings
    launcher: RunLauncher
    pool: WorkerPool
    limiter: FailedAuthLimiter = field(default_factory=FailedAuthLimiter)
    """Failed authentications per client address, shared by the token checks of reads and writes."""
    open_streams: int = 0
    """Event streams being served now (`MAX_EVENT_STREAMS` at most): each polls the store while it waits."""

    @property
    def store(self) -> RunStore:
        return self.launcher.store

    @property
    def token(self) -> str | None:
        return self.settings.api_token.get_secret_value() if self.settings.api_token else None


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.labgate
    return state
