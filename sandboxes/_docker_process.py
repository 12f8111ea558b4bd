"""A long-lived worker in its own container, with pipes like a local child process.

A worker gets a container of its own rather than an exec in the experiment's warm container:
killing the container is the one way to be sure that everything the worker started is gone, and
it leaves the warm container (and any command running there) untouched. The engine's attach
stream is turned into two OS pipes by small threads, so callers read `stdout` and write `stdin`
exactly as they would with `subprocess`.

A worker runs candidate code for as long as its caller keeps it, so its directory's disk and
file-count limits are watched for its whole life, and a worker killed for memory says so: `limit`
names the aggregate limit that ended it, and the end of `stderr_tail()` explains.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from typing import IO, Any

from sandboxes._base import SandboxProcess, SandboxUnavailableError
from sandboxes._docker_cgroup import ContainerCgroup
from sandboxes._docker_container import remove_quietly
from sandboxes._docker_stream import STDOUT, frames, hang_up, raw_socket
from sandboxes._engine import engine_errors
from sandboxes._process import ProcessHandles
from sandboxes._quota import QuotaWatch, limit_name

_POLL_SECONDS = 0.2
_FREEZE_TRIES = 3  # the engine's freezer may give up on a loaded host ("unable to freeze"); a retry then holds


class _Ring:
    """The newest `cap` bytes of a stream (for a worker's stderr, the end says why it died)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = b""
        self.lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.data = (self.data + chunk)[-self.cap :]

    def text(self) -> str:
        with self.lock:
            return self.data.decode("utf-8", errors="replace")


class DockerProcess(SandboxProcess):
    """A worker container; `kill()` removes the container and with it the whole process tree."""

    def __init__(
        self, client: Any, create_kwargs: dict[str, Any], stderr_bytes: int, quota: QuotaWatch | None = None
    ) -> None:
        self._client = client
        self._exit_code: int | None = None
        self._killed = False
        self._stderr = _Ring(stderr_bytes)
        self._quota = quota
        self._ended = threading.Event()
        self.limit: str | None = None  # the aggregate limit that ended the worker, if one did
        self._cgroup: ContainerCgroup | None = None
        self._members: list[int] = []  # the container's processes as the last pause found them
        self._let_run: list[int] | None = None  # what the last resume let run, for `halt`
        self._halted: list[int] = []  # what `halt` stopped, for `resume` to let go
        self._handles = ProcessHandles()  # `halt` and `resume` signal these processes, never their pids' next owners
        try:
            container = client.containers.create(**{**create_kwargs, "auto_remove": False})
        except engine_errors() as error:
            raise SandboxUnavailableError(f"the Docker engine could not create the worker: {error}") from None
        self.container_id: str = container.id
        try:
            handle = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._handle = handle
            self._sock = raw_socket(handle)
            container.start()
            pid = int(client.api.inspect_container(container.id)["State"].get("Pid") or 0)
            self._cgroup = ContainerCgroup.find(pid)
            if quota is not None:
                # Files the worker holds open with no name count against its directory (`unnamed_bytes`).
                quota.holders = self._cgroup.members if self._cgroup is not None else None
        except engine_errors() as error:
            remove_quietly(client, container.id)
            raise SandboxUnavailableError(f"the Docker engine could not start the worker: {error}") from None

        out_read, self._out_write = os.pipe()
        in_read, in_write = os.pipe()
        self.stdout: IO[bytes] = open(out_read, "rb")  # noqa: SIM115 - closed by kill()
        self.stdin: IO[bytes] = open(in_write, "wb")  # noqa: SIM115 - closed by kill()
        self._in_read = in_read
        self._threads = [
            threading.Thread(target=self._pump_output, daemon=True),
            threading.Thread(target=self._pump_input, daemon=True),
            threading.Thread(target=self._wait, daemon=True),
        ]
        if quota is not None:
            self._threads.append(threading.Thread(target=self._watch, daemon=True))
        for thread in self._threads:
            thread.start()

    def _pump_output(self) -> None:
        try:
            for stream, payload in frames(self._sock):
                if stream == STDOUT:
                    os.write(self._out_write, payload)
                else:
                    self._stderr.add(payload)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.close(self._out_write)

    def _pump_input(self) -> None:
        try:
            while chunk := os.read(self._in_read, 1 << 16):
                self._sock.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):
                os.close(self._in_read)

    def _watch(self) -> None:
        """Kill the worker at the first breach of its directory's disk or file-count limit."""
        assert self._quota is not None
        while not self._ended.wait(_POLL_SECONDS):
            message = self._quota.check()
            if message is not None:
                self._end_for(limit_name(message), message)
                return

    def _end_for(self, limit: str, message: str) -> None:
        self.limit = limit
        self._stderr.add(f"\nlabgate: {message}; the worker was killed\n".encode())
        with contextlib.suppress(Exception):
            remove_quietly(self._client, self.container_id)

    def _wait(self) -> None:
        """Record the exit code; once the output is drained, remove the container (nothing is left behind
        even by a caller that never calls kill)."""
        with contextlib.suppress(Exception):
            status = self._client.api.wait(self.container_id)
            self._exit_code = int(status.get("StatusCode", -1))
        self._ended.set()
        if self._exit_code == 137 and self.limit is None:
            with contextlib.suppress(Exception):
                if self._client.api.inspect_container(self.container_id)["State"].get("OOMKilled"):
                    self.limit = "memory_bytes"
                    self._stderr.add(b"\nlabgate: memory_bytes: the worker's container ran out of memory\n")
        self._threads[0].join(timeout=30)
        with contextlib.suppress(Exception):
            remove_quietly(self._client, self.container_id)

    def poll(self) -> int | None:
        return self._exit_code

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        self._ended.set()
        with contextlib.suppress(Exception):
            remove_quietly(self._client, self.container_id)
        if self._exit_code is None:
            self._exit_code = -9
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        hang_up(self._handle)
        self._handles.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def pause(self) -> bool:
        """The engine's pause: the container's freezer cgroup stops every process in it, new ones included.

        Where labgate sees the container's cgroup, the processes in it are noted: those `resume` lets run,
        for `halt`, and any not let run last time, as `newcomers`.
        """
        if self._killed or self._exit_code is not None:
            return False
        if self._set_paused(True) is not True:
            return False
        members = self._cgroup.members() if self._cgroup is not None else []
        self.newcomers = tuple(pid for pid in members if self._let_run is not None and pid not in self._let_run)
        self._members = [pid for pid in members if self._handles.track(pid)]
        self._handles.keep_only(self._members)
        self._let_run = None
        return True

    def halt(self) -> bool:
        """SIGSTOP to the container's processes as the last pause found them, straight from the host, where
        labgate may signal them (as root) and sees them (their cgroup): the engine's pause is an HTTP request,
        milliseconds away. False where it may not or cannot."""
        if not self._let_run:
            return False
        self._halted, allowed = self._handles.stop(self._let_run)
        return allowed  # where not ours to signal, only the engine's pause stops them

    def resume(self) -> None:
        if self._set_paused(False) is False and not self._killed and self._exit_code is None:
            # A worker the engine keeps frozen would hang the next request until its time limit: end it now,
            # with the reason where its stderr is read.
            self._stderr.add(b"\nlabgate: the Docker engine could not unpause the worker's container\n")
            self.kill()
            return
        for pid in self._halted:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self._handles.send(pid, signal.SIGCONT)
        self._halted = []
        self._let_run = self._members

    def _set_paused(self, paused: bool) -> bool | None:
        """Pause or unpause through the engine: whether the container ends up so, or None where it has ended
        (or the engine cannot say), which is the wait thread's to record, not a stuck freezer.

        Under load the engine's freezer can fail a pause or unpause that a moment later succeeds, and an
        answer lost on its way back leaves the container in the state asked for all the same: both are
        retried or confirmed by reading the container's state, so a busy host neither fails a run's timing
        nor leaves its worker frozen."""
        call = self._client.api.pause if paused else self._client.api.unpause
        for attempt in range(_FREEZE_TRIES):
            try:
                call(self.container_id)
                return True
            except engine_errors():
                pass
            try:
                state = self._client.api.inspect_container(self.container_id)["State"]
            except engine_errors():
                return None  # the container is gone (or the engine is): neither state can be had
            if not state.get("Running"):
                return None
            if bool(state.get("Paused")) == paused:
                return True
            time.sleep(0.05 * (attempt + 1))
        return False

    def stderr_tail(self) -> str:
        return self._stderr.text()
