"""How the local sandbox starts a command: the cgroup entry, the wrappers that run as root, rlimits.

Each command must run, every thread of it, in a fresh cgroup of its own with its own limits, and the
limits must bite. The programs that start a command as root (the cgroup entry, setpriv, bubblewrap) and
the one that applies its rlimits must be the host's, whatever PATH the caller hands the command.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sandboxes import MIB, Limits, LocalSandbox, ResourceLimitError
from sandboxes._cgroup import cgroup_limits_usable

pytestmark = pytest.mark.usefixtures("bubblewrap")

needs_cgroups = pytest.mark.skipif(
    os.geteuid() != 0 or cgroup_limits_usable() != {"memory_bytes", "processes"},
    reason="a cgroup per command needs root and writable pids and memory cgroups",
)

# Starts two threads and one child, prints the pids of all of them, then waits to be killed.
_THREADS_AND_CHILD = (
    "import os, subprocess, sys, threading, time\n"
    "for _ in range(2):\n"
    "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "child = subprocess.Popen(['sleep', '60'])\n"
    "print(os.getpid(), child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def _host_pid(marker: str, program: str) -> int:
    """The host pid of `program` carrying `marker` (not a wrapper that carries its argv before exec)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False).stdout.split()
        for pid in found:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == program:
                    return int(pid)
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"{program} with {marker} never started")


def _labgate_cgroups(text: str) -> dict[str, str]:
    """controller -> labgate cgroup path, from a /proc/<pid>/cgroup text."""
    return {
        controller: path
        for controller, path in re.findall(r"^\d+:([\w=,]+):(/.*labgate-\d+-[0-9a-f]+)$", text, re.MULTILINE)
    }


def _children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(item) for item in (task / "children").read_text().split()]
    return found


def _placement(sandbox: LocalSandbox, limits: Limits) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Spawn `_THREADS_AND_CHILD`; the labgate cgroups of each of its threads and of its child, and the limits
    those cgroups hold, read from the host while it runs."""
    marker = f"labgate-start-{uuid.uuid4().hex}"
    worker = sandbox.spawn(["python3", "-c", _THREADS_AND_CHILD, marker], limits=limits)
    try:
        assert worker.stdout.readline(), worker.stderr_tail()
        pid = _host_pid(marker, "python3")
        tasks = sorted(Path(f"/proc/{pid}/task").iterdir())
        assert len(tasks) >= 3, "the command's threads did not start"
        placed = [_labgate_cgroups((task / "cgroup").read_text()) for task in tasks]
        placed += [_labgate_cgroups(Path(f"/proc/{child}/cgroup").read_text()) for child in _children_of(pid)]
        groups = placed[0]
        root = Path("/sys/fs/cgroup")
        held = {
            "pids.max": (root / "pids" / groups["pids"].lstrip("/") / "pids.max").read_text().strip(),
            "memory.limit_in_bytes": (root / "memory" / groups["memory"].lstrip("/") / "memory.limit_in_bytes")
            .read_text()
            .strip(),
        }
    finally:
        worker.kill()
    return placed, held


@needs_cgroups
def test_every_thread_and_child_of_a_command_is_in_a_fresh_cgroup_of_its_own_with_its_limits(tmp_path: Path) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    first_limits = Limits(processes=77, memory_bytes=300 * MIB, tmp_bytes=20 * MIB)
    first, first_held = _placement(sandbox, first_limits)
    second, second_held = _placement(sandbox, Limits(processes=55, memory_bytes=200 * MIB, tmp_bytes=10 * MIB))
    sandbox.close()

    for placed in (first, second):
        assert len(placed) >= 4, "threads and child not all seen"
        assert all(set(groups) >= {"pids", "memory"} for groups in placed), f"a thread ran outside: {placed}"
        assert all(groups == placed[0] for groups in placed), f"the command's threads are split: {placed}"
    assert set(first[0].values()).isdisjoint(second[0].values()), "two commands shared a cgroup"
    assert first_held == {"pids.max": "77", "memory.limit_in_bytes": str(320 * MIB)}
    assert second_held == {"pids.max": "55", "memory.limit_in_bytes": str(210 * MIB)}
    root = Path("/sys/fs/cgroup")
    for groups in (first[0], second[0]):
        for controller, path in groups.items():
            assert not (root / controller / path.lstrip("/")).exists(), f"{path} outlived its command"


@needs_cgroups
def test_a_commands_cgroup_refuses_forks_beyond_its_process_limit(tmp_path: Path) -> None:
    """The cgroup, not only RLIMIT_NPROC, stops the bomb: it counts bubblewrap's monitor too, so it bites first."""
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    bomb = (
        "import os, sys, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 500:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n, flush=True)\n"
        "time.sleep(60)\n"
    )
    marker = f"labgate-bomb-{uuid.uuid4().hex}"
    worker = sandbox.spawn(["python3", "-c", bomb, marker], limits=Limits(processes=30))
    try:
        forks = int(worker.stdout.readline() or b"-1")
        pid = _host_pid(marker, "python3")
        pids_group = _labgate_cgroups(Path(f"/proc/{pid}/cgroup").read_text())["pids"]
        events = (Path("/sys/fs/cgroup/pids") / pids_group.lstrip("/") / "pids.events").read_text()
    finally:
        worker.kill()
    assert 0 <= forks < 30, f"{forks} forks under a limit of 30"
    refused = int(re.search(r"max (\d+)", events).group(1))  # type: ignore[union-attr]
    assert refused > 0, f"the pids cgroup refused nothing: {events}"


@needs_cgroups
def test_a_commands_memory_cgroup_stops_a_tree_that_each_process_alone_would_not(tmp_path: Path) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    # Three processes of about 100 MiB each: every one fits the cgroup's 216 MiB alone, the tree does not.
    hog = (
        "import os, time\n"
        "for _ in range(2):\n"
        "    if os.fork() == 0:\n"
        "        break\n"
        "block = bytearray(90 << 20)\n"
        "for at in range(0, len(block), 4096):\n"
        "    block[at] = 1\n"
        "time.sleep(5)\n"
    )
    limits = Limits(memory_bytes=200 * MIB, address_space_bytes=2048 * MIB, tmp_bytes=16 * MIB)
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["python3", "-c", hog], timeout=60, limits=limits)
    assert caught.value.limit == "memory_bytes"


def _plant(directory: Path, names: list[str], marker: Path) -> None:
    """Scripts named like the sandbox's wrappers that leave `marker` behind when anything runs them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        script = directory / name
        script.write_text(f'#!/bin/sh\necho "{name} $(id -u)" >> {marker}\nexit 0\n')
        script.chmod(0o755)


def test_a_callers_path_does_not_choose_the_programs_that_start_the_command(tmp_path: Path) -> None:
    """The wrappers run before the sandbox exists (as root, when labgate is root): a PATH naming a folder
    with a planted `sh`, `setpriv`, `bwrap` or `prlimit` first must not make them run any of those."""
    planted = tmp_path / "planted"
    marker = tmp_path / "ran"
    _plant(planted, ["sh", "setpriv", "bwrap", "prlimit"], marker)
    sandbox = LocalSandbox(workdir=tmp_path / "work", ro_paths=[planted])
    path = f"{planted}:/usr/local/bin:/usr/bin:/bin"
    result = sandbox.exec(["/bin/sh", "-c", 'echo "$PATH"; ulimit -v'], timeout=30, env={"PATH": path})
    assert not marker.exists(), f"a planted wrapper ran: {marker.read_text()}"
    assert result.success, result.stderr
    seen_path, address_space = result.stdout.split()
    assert seen_path == path, "the command lost the PATH its caller gave it"
    assert int(address_space) * 1024 == Limits().memory_bytes, "the command started without its rlimits"


def test_a_prlimit_written_in_the_experiment_cannot_drop_the_next_commands_rlimits(tmp_path: Path) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    fake = "#!/bin/sh\\necho planted > planted.txt\\n"
    planter = f"mkdir -p bin && printf '{fake}' > bin/prlimit && chmod 755 bin/prlimit"
    assert sandbox.exec(["sh", "-c", planter], timeout=30).success
    path = f"{sandbox.workdir}/bin:/usr/local/bin:/usr/bin:/bin"
    result = sandbox.exec(["/bin/sh", "-c", "ulimit -t"], timeout=30, env={"PATH": path})
    assert not (sandbox.workdir / "planted.txt").exists(), "the experiment's own prlimit ran in place of the host's"
    assert result.success, result.stderr
    assert result.stdout.strip() == "35", f"cpu rlimit {result.stdout.strip()!r}, not the 30 s wall clock + 5"
