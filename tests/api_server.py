"""Serving the real app for tests: uvicorn in a thread (in-process) or `agent serve` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from api._app import create_app
from api._settings import Settings
from tests.conftest import REPO


@contextmanager
def serve_in_thread(settings: Settings, *, start_workers: bool = True) -> Iterator[str]:
    """The app on a free loopback port; yields its base URL and shuts it down (lifespan included)."""
    app = create_app(settings, start_workers=start_workers)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def served_client(settings: Settings, *, timeout: float = 30) -> Iterator[httpx.Client]:
    """A client of the app served in a thread (`serve_in_thread`, no run workers): what most API tests talk to."""
    with serve_in_thread(settings, start_workers=False) as url, httpx.Client(base_url=url, timeout=timeout) as client:
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(home: Path, env: dict[str, str] | None = None, workers: int = 2) -> Iterator[str]:
    """`agent serve` as a user starts it; yields the base URL once /healthz answers."""
    port = free_port()
    full_env = {**os.environ, "LABGATE_HOME": str(home), **(env or {})}
    log = (home / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=REPO,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"agent serve exited with {process.returncode}; see {home / 'serve.log'}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("agent serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
