"""The local sandbox's command pump: input and output move together, caps hold, exit wakes it at once."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sandboxes import LocalSandbox, OutputLimitExceededError, SandboxTimeoutError
from sandboxes._pump import CappedBuffer

pytestmark = pytest.mark.usefixtures("bubblewrap")


def test_large_input_is_echoed_whole_while_output_is_drained(tmp_path: Path) -> None:
    # 4 MiB through `cat`: more than both pipe buffers, so feeding and draining must interleave.
    payload = os.urandom(2 * 1024 * 1024).hex().encode()
    result = LocalSandbox(workdir=tmp_path).exec(["cat"], timeout=60, input=payload)
    assert result.success
    assert result.stdout.encode() == payload


def test_input_the_command_never_reads_does_not_hang(tmp_path: Path) -> None:
    result = LocalSandbox(workdir=tmp_path).exec(["sh", "-c", "exit 3"], timeout=30, input=b"x" * 1_000_000)
    assert result.returncode == 3


def test_stdout_and_stderr_are_kept_apart(tmp_path: Path) -> None:
    result = LocalSandbox(workdir=tmp_path).exec(["sh", "-c", "echo out; echo err >&2"], timeout=30)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


def test_output_past_the_cap_kills_the_command(tmp_path: Path) -> None:
    sandbox = LocalSandbox(workdir=tmp_path)
    limits = replace(sandbox.limits, output_bytes=10_000)
    start = time.monotonic()
    with pytest.raises(OutputLimitExceededError) as caught:
        sandbox.exec(["sh", "-c", "yes; sleep 60"], timeout=60, limits=limits)
    assert time.monotonic() - start < 20
    assert caught.value.partial is not None
    assert len(caught.value.partial.stdout) == 10_000


def test_a_grandchild_holding_the_pipes_does_not_outlive_the_timeout(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(SandboxTimeoutError):
        LocalSandbox(workdir=tmp_path).exec(["sh", "-c", "sleep 100 & sleep 100"], timeout=1)
    assert time.monotonic() - start < 10


def test_capped_buffer_keeps_head_or_tail() -> None:
    head, tail = CappedBuffer(4), CappedBuffer(4, keep="tail")
    for chunk in (b"abc", b"def"):
        head.feed(chunk)
        tail.feed(chunk)
    assert (head.text(), head.overflowed) == ("abcd", True)
    assert (tail.text(), tail.overflowed) == ("cdef", False)


def test_a_tail_copies_each_byte_a_bounded_number_of_times() -> None:
    """A worker writing stderr without pause cost labgate 0.7 of a core: the tail joined its whole ring at every
    chunk. It now holds at most twice its cap between trims, and still reads as the newest `cap` bytes."""
    cap = 1000
    tail = CappedBuffer(cap, keep="tail")
    written = bytearray()
    for index in range(3000):
        chunk = bytes([65 + index % 26]) * (1 + index % 97) + (b"\n" if index % 5 == 0 else b"")
        tail.feed(chunk)
        written += chunk
        assert sum(len(part) for part in tail.chunks) <= 2 * cap + len(chunk)
        if index % 250 == 0 or index == 2999:
            assert tail.text() == written[-cap:].decode()
    steady = CappedBuffer(cap, keep="tail")
    for _ in range(cap // 10 + 5):
        steady.feed(b"0123456789")
    assert len(steady.chunks) > 1  # chunks are kept as they came, not joined into one ring at every feed
    big = CappedBuffer(cap, keep="tail")
    big.feed(b"x" * (5 * cap) + b"end")  # one chunk larger than the cap
    assert big.text() == ("x" * (cap - 3)) + "end" and len(big.chunks[0]) == cap
