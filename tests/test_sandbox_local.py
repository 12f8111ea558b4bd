"""The local sandbox against hostile commands: each test runs the real bubblewrap backend."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import sandboxes._local as local_module
from sandboxes import (
    GIB,
    Limits,
    LocalSandbox,
    OutputLimitExceededError,
    ResourceLimitError,
    SandboxCommandError,
    SandboxPathError,
    SandboxTimeoutError,
    SandboxUnavailableError,
)
from sandboxes._process import PIPE_BYTES, TAIL_BYTES_PER_SECOND

pytestmark = pytest.mark.usefixtures("bubblewrap")


def _alive(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return found.stdout.split()


def _running_as(marker: str, program: str) -> list[str]:
    """Pids of `program` itself carrying `marker`, not the wrappers (cgroup entry, setpriv, bwrap) that
    carry the same argv for a moment before they exec it."""
    pids = []
    for pid in _alive(marker):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == program:
                pids.append(pid)
        except OSError:
            continue
    return pids


@pytest.fixture
def sandbox(tmp_path: Path) -> LocalSandbox:
    return LocalSandbox(workdir=tmp_path / "work")


def test_runs_a_command_in_the_workdir(sandbox: LocalSandbox) -> None:
    result = sandbox.exec(["sh", "-c", "pwd; echo hi > out.txt; id -u"], timeout=30)
    assert result.success
    lines = result.stdout.split()
    assert lines[0] == str(sandbox.workdir)
    assert lines[1] != "0", "commands must not run as root inside the sandbox"
    assert (sandbox.workdir / "out.txt").read_text() == "hi\n"


def test_timeout_kills_the_whole_tree(sandbox: LocalSandbox) -> None:
    marker = f"labgate-sleeper-{uuid.uuid4().hex}"
    sleeper = f"python3 -c 'import time; time.sleep(300)' {marker}"
    script = f"{sleeper} & {sleeper} & wait"
    start = time.monotonic()
    with pytest.raises(SandboxTimeoutError):
        sandbox.exec(["sh", "-c", script], timeout=1.5)
    assert time.monotonic() - start < 10
    deadline = time.monotonic() + 5
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(marker) == [], "sleeping children outlived the timeout"


def test_memory_hog_is_stopped(sandbox: LocalSandbox) -> None:
    hog = "x = bytearray(3 * 1024**3); print('allocated')"
    result = sandbox.exec(["python3", "-c", hog], timeout=60, limits=Limits(memory_bytes=1 * GIB))
    assert not result.success
    assert "allocated" not in result.stdout
    assert "MemoryError" in result.stderr


def test_fork_bomb_is_contained(sandbox: LocalSandbox) -> None:
    # Forks until the kernel refuses; reports how many children it got.
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 10000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n, flush=True)\n"
        "os._exit(0)\n"
    )
    marker = f"labgate-bomb-{uuid.uuid4().hex}"
    result = sandbox.exec(["python3", "-c", bomb, marker], timeout=60, limits=Limits(processes=40))
    forks = int(result.stdout.split()[0])
    assert forks < 40, f"{forks} processes were created under a limit of 40"
    deadline = time.monotonic() + 5
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive(marker) == [], "the bomb's children survived the sandbox"


def test_network_is_unreachable(sandbox: LocalSandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    probe = (
        "import socket\n"
        f"for host, port in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        "    print(host, s.connect_ex((host, port)))\n"
    )
    result = sandbox.exec(["python3", "-c", probe], timeout=30)
    codes = dict(line.split() for line in result.stdout.strip().splitlines())
    assert codes["127.0.0.1"] != "0" and codes["1.1.1.1"] != "0"
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()


def test_writes_outside_the_workdir_fail(sandbox: LocalSandbox, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    sibling = sandbox.workdir.parent / "sibling.txt"
    system = ["/usr/labgate-x", "/etc/labgate-x", "/bin/labgate-x", "/sys/labgate-x"]
    targets = " ".join([str(outside), str(sibling), *system])
    script = f"for p in {targets}; do touch $p 2>/dev/null && echo wrote $p; done; echo done"
    result = sandbox.exec(["sh", "-c", script], timeout=30)
    assert result.stdout.strip().endswith("done")
    for path in system:
        assert f"wrote {path}" not in result.stdout, f"{path} was writable"
    # Anything else written outside the workdir went to the sandbox's private /tmp and vanished.
    assert not outside.exists()
    assert not sibling.exists()


def test_the_etc_files_copied_in_hold_the_hosts_text_and_cannot_be_changed(sandbox: LocalSandbox) -> None:
    """Small /etc files are copied into bubblewrap's root at each command rather than bound: the copies
    must be the host's bytes, and the sandbox must not be able to change, replace or add to them."""
    names = [name for name in ("ld.so.cache", "nsswitch.conf", "services") if Path("/etc", name).is_file()]
    assert names, "none of the files this test reads is on this host"
    paths = " ".join(f"/etc/{name}" for name in names)
    attack = (
        f"for p in {paths} /etc/passwd; do echo x >> $p && echo changed $p; chmod 666 $p && echo chmod $p; "
        "mv $p $p.old && echo moved $p; rm -f $p && echo removed $p; done; "
        "touch /etc/labgate-new && echo created; ln -s /tmp /etc/labgate-link && echo linked; "
        f"sha256sum {paths}"
    )
    result = sandbox.exec(["sh", "-c", attack], timeout=30)
    for verb in ("changed", "chmod", "moved", "removed", "created", "linked"):
        assert verb not in result.stdout, result.stdout
    host = subprocess.run(
        ["sha256sum", *(f"/etc/{name}" for name in names)], capture_output=True, text=True, check=True
    )
    inside = [line for line in result.stdout.splitlines() if line.startswith(tuple("0123456789abcdef"))]
    assert inside == host.stdout.splitlines()
    users = sandbox.exec(["cat", "/etc/passwd"], timeout=30).stdout
    assert users == local_module.SYNTHETIC_ETC["passwd"]


def test_host_files_are_not_visible(sandbox: LocalSandbox) -> None:
    result = sandbox.exec(["sh", "-c", "ls /root /home 2>&1; echo end"], timeout=30)
    assert "No such file" in result.stdout


def test_secrets_never_reach_the_sandbox(sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    monkeypatch.setenv("LABGATE_API_TOKEN", "host-token")
    result = sandbox.exec(
        ["env"],
        timeout=30,
        env={"SOLVER_OPTION": "kept", "MY_SERVICE_TOKEN": "dropped", "AWS_SECRET_ACCESS_KEY": "x"},
    )
    assert "SOLVER_OPTION=kept" in result.stdout
    for leaked in ("sk-host-secret", "host-token", "dropped", "OPENAI_API_KEY", "AWS_SECRET"):
        assert leaked not in result.stdout


def test_output_flood_is_cut(sandbox: LocalSandbox) -> None:
    with pytest.raises(OutputLimitExceededError) as caught:
        sandbox.exec(["sh", "-c", "yes labgate"], timeout=30, limits=Limits(output_bytes=10_000))
    assert caught.value.partial is not None
    assert len(caught.value.partial.stdout) <= 10_000


def test_paths_cannot_escape_the_workdir(sandbox: LocalSandbox) -> None:
    sandbox.write_file("inside/ok.txt", "fine")
    assert sandbox.read_file("inside/ok.txt") == b"fine"
    for bad in ("../escape.txt", "/etc/passwd", "inside/../../x"):
        with pytest.raises(SandboxPathError):
            sandbox.write_file(bad, "x")


def test_missing_bubblewrap_is_refused_with_the_opt_out_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_module, "_probe_result", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailableError, match="--unsafe-no-isolation"):
        LocalSandbox(workdir=tmp_path / "w")
    monkeypatch.setattr(local_module, "_probe_result", None)


def test_unsafe_mode_still_applies_limits_and_timeouts(tmp_path: Path) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "w", isolation=False)
    assert sandbox.describe()["isolation"].startswith("none")
    result = sandbox.exec(["sh", "-c", "echo $OPENAI_API_KEY; ulimit -c"], timeout=30)
    assert result.stdout.split() == ["0"]
    with pytest.raises(SandboxTimeoutError):
        sandbox.exec(["sleep", "30"], timeout=1)
    assert os.environ.get("HOME") != str(sandbox.workdir)


def test_spawned_worker_serves_requests_and_dies_with_kill(sandbox: LocalSandbox) -> None:
    echo = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line.upper()); sys.stdout.flush()\n"
    marker = f"labgate-worker-{uuid.uuid4().hex}"
    worker = sandbox.spawn(["python3", "-c", echo, marker])
    for word in (b"first\n", b"second\n"):
        worker.stdin.write(word)
        worker.stdin.flush()
        assert worker.stdout.readline() == word.upper()
    assert worker.poll() is None
    assert _alive(marker)
    worker.kill()
    worker.kill()
    deadline = time.monotonic() + 5
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(marker) == []
    assert worker.poll() is not None


def test_a_worker_flooding_its_stderr_is_drained_at_a_bounded_rate(sandbox: LocalSandbox) -> None:
    """Only the newest stderr is kept, so it need not be drained as fast as it is written: drained that fast,
    a worker writing stderr without pause cost labgate's own process 0.7 of a core (outside the sandbox's
    limits). Past `TAIL_BYTES_PER_SECOND` the worker waits on its own pipe; its tail is still the newest."""
    flood = "import os\nchunk = b'e' * 65536\nwhile True:\n    os.write(2, chunk)\n"
    worker = sandbox.spawn(["python3", "-c", flood])
    try:
        time.sleep(1.5)
        drained = worker._stderr.buffer.size
        assert worker.poll() is None
    finally:
        worker.kill()
    assert TAIL_BYTES_PER_SECOND <= drained <= 3 * TAIL_BYTES_PER_SECOND, drained
    assert set(worker.stderr_tail()) == {"e"}


F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def test_a_spawned_worker_gets_wide_pipes_and_moves_a_large_reply_whole(sandbox: LocalSandbox) -> None:
    """Requests and replies of tens of MB go through pipes widened to `PIPE_BYTES` (the kernel worker's arrays)."""
    size = 24 << 20
    reply = f"import sys\nsys.stdin.readline()\nsys.stdout.buffer.write(bytes(range(256)) * {size // 256})\n"
    worker = sandbox.spawn(["python3", "-c", reply])
    try:
        for stream in (worker.stdin, worker.stdout):
            assert fcntl.fcntl(stream.fileno(), F_GETPIPE_SZ) == PIPE_BYTES
        worker.stdin.write(b"go\n")
        worker.stdin.flush()
        data = worker.stdout.read(size)
        assert len(data) == size and data[:256] == bytes(range(256)) and data[-256:] == bytes(range(256))
    finally:
        worker.kill()


# --- hardening: identity, loans, aggregate limits ----------------------------------------------

SANDBOX_UID_FLOOR = 2_000_000_000
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="labgate drops to a fresh uid only when it runs as root")


def _uid_of(pid: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))


@needs_root
def test_root_lends_the_directory_to_a_fresh_uid_and_takes_it_back(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    os.chown(workdir, 4321, 4321)
    workdir.chmod(0o750)
    sandbox = LocalSandbox(workdir=workdir)
    assert "fresh unprivileged host uid" in sandbox.describe()["user"]
    marker = f"labgate-lent-{uuid.uuid4().hex}"
    sleeper = f"touch made-by-worker; exec python3 -c 'import time; time.sleep(60)' {marker}"
    worker = sandbox.spawn(["sh", "-c", sleeper])
    try:
        deadline = time.monotonic() + 10
        while not _running_as(marker, "python3") and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = _running_as(marker, "python3")
        assert pids, "the worker did not start"
        # On the host the command is neither root nor labgate's user, and it owns the directory while it runs.
        assert _uid_of(pids[0]) == sandbox.host_uid >= SANDBOX_UID_FLOOR
        assert workdir.stat().st_uid == sandbox.host_uid
        assert stat_mode(workdir) == 0o700, "a lent directory is closed to every other uid"
    finally:
        worker.kill()
    for path in [workdir, *workdir.rglob("*")]:
        assert path.lstat().st_uid == 4321, f"{path} was not given back"
    assert stat_mode(workdir) == 0o750


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


@needs_root
def test_two_sandboxes_on_one_directory_share_its_loan(tmp_path: Path) -> None:
    """A worker keeps writing while another command runs in its directory: neither loses the files."""
    workdir = tmp_path / "work"
    first, second = LocalSandbox(workdir=workdir), LocalSandbox(workdir=workdir)
    assert first.host_uid != second.host_uid
    loop = "import sys\nfor line in sys.stdin:\n    open(line.strip(), 'w').write('x'); print('ok', flush=True)\n"
    worker = first.spawn(["python3", "-c", loop])
    try:
        worker.stdin.write(b"from-worker-1\n")
        worker.stdin.flush()
        assert worker.stdout.readline() == b"ok\n"
        assert second.exec(["sh", "-c", "echo y > from-exec && cat from-worker-1"], timeout=30).stdout == "x"
        worker.stdin.write(b"from-worker-2\n")
        worker.stdin.flush()
        assert worker.stdout.readline() == b"ok\n", worker.stderr_tail()
    finally:
        worker.kill()
    assert {p.name for p in workdir.iterdir()} == {"from-worker-1", "from-exec", "from-worker-2"}
    assert all(p.stat().st_uid == os.getuid() for p in workdir.iterdir())


def test_a_worker_crossing_the_disk_limit_is_killed_and_says_why(sandbox: LocalSandbox) -> None:
    filler = "import time\nfor i in range(64):\n    open(f'f{i}', 'wb').write(b'x' * (1 << 20))\ntime.sleep(60)\n"
    worker = sandbox.spawn(["python3", "-c", filler], limits=Limits(disk_bytes=8 << 20))
    deadline = time.monotonic() + 20
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.poll() is not None, "the worker outlived its disk limit"
    assert "disk_bytes" in worker.stderr_tail()
    worker.kill()


@needs_root
def test_each_command_gets_its_own_cgroup_and_it_is_removed(sandbox: LocalSandbox) -> None:
    assert set(sandbox.describe()["aggregate_limits"]) == {"memory_bytes", "processes"}
    marker = f"labgate-cgroup-{uuid.uuid4().hex}"
    worker = sandbox.spawn(["python3", "-c", "import time; time.sleep(60)", marker])
    try:
        deadline = time.monotonic() + 10
        seen_from_host = ""
        while not seen_from_host and time.monotonic() < deadline:
            for pid in _running_as(marker, "python3"):
                with contextlib.suppress(OSError):
                    seen_from_host = Path(f"/proc/{pid}/cgroup").read_text()
            time.sleep(0.05)
        assert seen_from_host, worker.stderr_tail()
    finally:
        worker.kill()
    placed = dict(re.findall(r"^\d+:([\w=,]+):.*/(labgate-\d+-[0-9a-f]+)$", seen_from_host, re.MULTILINE))
    assert "pids" in placed and "memory" in placed, f"the command ran outside a labgate cgroup: {seen_from_host}"
    leftovers = [p for p in Path("/sys/fs/cgroup").rglob("labgate-*") if p.name in placed.values()]
    assert leftovers == [], "a command's cgroup outlived it"


def test_no_set_id_bit_survives_a_command(sandbox: LocalSandbox) -> None:
    script = "cp /bin/sh s && chmod 6755 s && mkdir d && chmod 2777 d && ls -l s"
    result = sandbox.exec(["sh", "-c", script], timeout=30)
    assert result.stdout.startswith("-rws"), "the sandbox could not even set the bit (the test would prove nothing)"
    for name in ("s", "d"):
        assert not (sandbox.workdir / name).stat().st_mode & 0o6000


YIELDING_HOST = """
import os, sys, threading, time
from pathlib import Path
from sandboxes import LocalSandbox, yield_cpu
print("took effect:", *yield_cpu(7))
box = LocalSandbox(workdir=Path(sys.argv[1]))
marker = sys.argv[2]
# The command tries to leave the weighted group for the root one, and to raise its group's weight.
escape = (
    "for g in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do echo $$ > $g/cgroup.procs; done 2>/dev/null; "
    "echo 1024 > /sys/fs/cgroup/cpu/labgate-background/cpu.shares 2>/dev/null; renice -n 0 -p $$ 2>/dev/null; "
)
command = threading.Thread(
    target=box.exec, args=(["sh", "-c", escape + f"sleep 2; : {marker}"],), kwargs={"timeout": 30}
)
command.start()
seen = set()
deadline = time.monotonic() + 10
while command.is_alive() and time.monotonic() < deadline:
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes() and entry.name != str(os.getpid()):
                lines = (entry / "cgroup").read_text().splitlines()
                cpu = [line for line in lines if "cpu" in line.split(":")[1].split(",")]
                seen.update(f"{line} nice={os.getpriority(os.PRIO_PROCESS, int(entry.name))}" for line in cpu)
        except (OSError, ValueError):
            continue
    time.sleep(0.05)
command.join()
print(*sorted(seen), sep="\\n")
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/sys/fs/cgroup/cpu/cpu.shares").exists(), reason="needs a cgroup v1 cpu controller")
def test_a_yielding_host_runs_its_commands_in_the_background_cpu_group(tmp_path: Path) -> None:
    """With autogroup scheduling, sessions share the CPU as equals whatever their processes' nice values,
    and each sandboxed command leads a session of its own: a run worker's solver took as much CPU as the
    API server. A host that yields must have its sandboxed commands in the weighted background group."""
    if os.geteuid() != 0:
        pytest.skip("joining a cpu cgroup needs root")
    marker = f"labgate-yield-{uuid.uuid4().hex}"
    result = subprocess.run(
        [sys.executable, "-c", YIELDING_HOST, str(tmp_path / "work"), marker],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # Autogroup is not on every kernel (nor writable in every container); the weighted group is what binds.
    took_effect = result.stdout.splitlines()[0].removeprefix("took effect:").split()
    assert {"nice", "cgroup"} <= set(took_effect), result.stdout + result.stderr
    seen = [line for line in result.stdout.splitlines() if " nice=" in line]
    assert seen and all("labgate-background nice=7" in line for line in seen), result.stdout
    shares = int(Path("/sys/fs/cgroup/cpu/labgate-background/cpu.shares").read_text())
    assert shares == round(1024 / 1.25**7)
    # This test's own process, which did not yield, is untouched.
    assert "labgate-background" not in Path("/proc/self/cgroup").read_text()


def test_a_worker_whose_directory_the_host_removed_still_closes_cleanly(tmp_path: Path) -> None:
    """A kept worker (a prover session) closed after its run folder was deleted: nothing to hand back,
    and no error from the hand-back at exit."""
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    worker = sandbox.spawn(["sh", "-c", "touch made-inside; echo ready; sleep 30"])
    assert worker.stdout.readline().strip() == b"ready", worker.stderr_tail()
    shutil.rmtree(sandbox.workdir)
    worker.kill()
    sandbox.close()
    assert not sandbox.workdir.exists()


UNNAMED_FILL = (
    "import os, time\n"
    "held = []\n"
    "for i in range(4):\n"
    "    fd = os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600) if i % 2 else os.open(f'f{i}', os.O_CREAT | os.O_RDWR)\n"
    "    if not i % 2:\n"
    "        os.unlink(f'f{i}')\n"
    "    for _ in range(12):\n"
    "        os.write(fd, b'x' * (1 << 20))\n"
    "    held.append(fd)\n"
    "os.fsync(held[-1])\n"
    "time.sleep(5)\n"
    "print('kept', flush=True)\n"
)


# A file mapped shared and its descriptor closed: only its process's maps show it (Python's mmap module
# keeps a descriptor of its own, so libc's mmap is called directly). NAMELESS makes each file nameless in
# one of the ways a file loses its name: never linked, unlinked, or replaced by a rename over it. Its name
# holds a carriage return, which /proc/<pid>/maps prints as it is.
MAPPED_FILL = (
    "import ctypes, os, sys, time\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.mmap.restype = ctypes.c_void_p\n"
    "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
    "how = sys.argv[1]\n"
    "for i in range(4):\n"
    "    if how == 'tmpfile':\n"
    "        fd = os.open('.', os.O_TMPFILE | os.O_RDWR, 0o600)\n"
    "    else:\n"
    "        fd = os.open(f'f{i}\\r (deleted)', os.O_CREAT | os.O_RDWR, 0o600)\n"
    "    for _ in range(12):\n"
    "        os.write(fd, b'x' * (1 << 20))\n"
    "    assert libc.mmap(None, 12 << 20, 1, 1, fd, 0) not in (None, ctypes.c_void_p(-1).value)\n"
    "    os.close(fd)\n"
    "    if how == 'unlinked':\n"
    "        os.unlink(f'f{i}\\r (deleted)')\n"
    "    elif how == 'renamed-over':\n"
    "        open('other', 'w').close()\n"
    "        os.rename('other', f'f{i}\\r (deleted)')\n"
    "print('fds', sorted(os.listdir('/proc/self/fd')), flush=True)\n"
    "time.sleep(5)\n"
    "print('kept', flush=True)\n"
)
FALLOCATE_PROBE = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]\n"
    "fd = os.open('reserved', os.O_CREAT | os.O_RDWR, 0o600)\n"
    "if libc.fallocate(fd, 0, 0, 1 << 30) == 0:\n"
    "    print('fallocate reserved', os.fstat(fd).st_blocks * 512)\n"
    "else:\n"
    "    print('fallocate', ctypes.get_errno())\n"
    "os.posix_fallocate(fd, 0, 4 << 20)\n"
    "print('posix_fallocate', os.fstat(fd).st_size, flush=True)\n"
)


@needs_root
@pytest.mark.parametrize("how", ["tmpfile", "unlinked", "renamed-over"])
def test_files_only_mapped_count_against_the_disk_limit(sandbox: LocalSandbox, how: str) -> None:
    """48 MiB of nameless files held by memory maps alone, no descriptor: a breach of 16 MiB."""
    with pytest.raises(ResourceLimitError) as raised:
        sandbox.exec(["python3", "-c", MAPPED_FILL, how], timeout=60, limits=Limits(disk_bytes=16 << 20))
    assert raised.value.limit == "disk_bytes"
    partial = raised.value.partial.stdout if raised.value.partial else ""
    assert "kept" not in partial


@needs_root
def test_mapped_files_that_keep_their_names_count_once_by_the_walk(sandbox: LocalSandbox) -> None:
    """The same 48 MiB mapped under names (that end in " (deleted)", as the kernel marks nameless maps)
    fits a 64 MiB limit: the walk counts them and the maps do not count them again."""
    result = sandbox.exec(["python3", "-c", MAPPED_FILL, "named"], timeout=60, limits=Limits(disk_bytes=64 << 20))
    assert result.returncode == 0 and "kept" in result.stdout, result.stderr


def test_fallocate_is_refused_and_posix_fallocate_writes_instead(sandbox: LocalSandbox) -> None:
    """fallocate would reserve a gigabyte between two polls of the disk watch; posix_fallocate still works,
    by writing (glibc's fallback for a filesystem without fallocate)."""
    result = sandbox.exec(["python3", "-c", FALLOCATE_PROBE], timeout=60, limits=Limits(disk_bytes=64 << 20))
    assert result.returncode == 0, result.stderr
    assert f"fallocate {errno.EOPNOTSUPP}\n" in result.stdout, result.stdout
    assert f"posix_fallocate {4 << 20}\n" in result.stdout, result.stdout


def test_one_file_cannot_outgrow_the_disk_limit(sandbox: LocalSandbox) -> None:
    """RLIMIT_FSIZE is at most one byte over `disk_bytes`, whatever `file_bytes` allows, and the breach is named."""
    limits = Limits(disk_bytes=8 << 20, file_bytes=1 << 30)
    with pytest.raises(ResourceLimitError) as raised:
        sandbox.exec(["sh", "-c", "head -c 200000000 /dev/zero > one; echo wrote"], timeout=60, limits=limits)
    assert raised.value.limit == "disk_bytes"
    assert (sandbox.workdir / "one").stat().st_size <= (8 << 20) + 1


@needs_root
def test_files_held_open_with_no_name_count_against_the_disk_limit(sandbox: LocalSandbox) -> None:
    """Unlinked and O_TMPFILE files take disk no walk of the directory finds: 48 MiB of them against 16."""
    with pytest.raises(ResourceLimitError) as raised:
        sandbox.exec(["python3", "-c", UNNAMED_FILL], timeout=60, limits=Limits(disk_bytes=16 << 20))
    assert raised.value.limit == "disk_bytes"
    assert "kept" not in (raised.value.partial.stdout if raised.value.partial else "")


@pytest.mark.parametrize(
    ("cmd", "env", "timeout"),
    [
        ([], None, 30.0),
        (["echo", "a\0b"], None, 30.0),
        (["true"], {"A=B": "1"}, 30.0),
        (["true"], {"A": "x\0y"}, 30.0),
        (["true"], {"": "1"}, 30.0),
        (["true"], None, float("nan")),
        (["true"], None, float("inf")),
    ],
    ids=["empty", "NUL in argv", "= in a name", "NUL in a value", "empty name", "nan timeout", "inf timeout"],
)
def test_a_command_that_cannot_be_started_is_refused_with_the_reason(
    sandbox: LocalSandbox, cmd: list[str], env: dict[str, str] | None, timeout: float
) -> None:
    with pytest.raises(SandboxCommandError):
        sandbox.exec(cmd, timeout=timeout, env=env)
    if timeout == 30.0:
        with pytest.raises(SandboxCommandError):
            sandbox.spawn(cmd, env=env)


def test_a_link_loop_left_in_the_directory_is_a_path_error(sandbox: LocalSandbox) -> None:
    sandbox.exec(["sh", "-c", "ln -s loop loop; ln -s b a; ln -s a b"], timeout=30)
    for name in ("loop", "a", "a/inside"):
        with pytest.raises(SandboxPathError):
            sandbox.read_file(name)
    with pytest.raises(SandboxPathError):
        sandbox.exec(["true"], timeout=30, cwd="loop")


@pytest.mark.parametrize("make", ["", "touch plain", "mkfifo plain"])
def test_a_working_directory_that_is_no_directory_is_a_path_error(sandbox: LocalSandbox, make: str) -> None:
    if make:
        sandbox.exec(["sh", "-c", make], timeout=30)
    for call in (lambda: sandbox.exec(["true"], timeout=30, cwd="plain"), lambda: sandbox.spawn(["true"], cwd="plain")):
        with pytest.raises(SandboxPathError, match="working directory 'plain'"):
            call()
    sandbox.exec(["mkdir", "plain2"], timeout=30)
    assert sandbox.exec(["pwd"], timeout=30, cwd="plain2").stdout.strip().endswith("plain2")


def test_a_sparse_file_is_charged_its_size_not_its_few_blocks(sandbox: LocalSandbox) -> None:
    """Charged by blocks, four 64 MiB sparse files cost 20 KiB of a 64 MiB budget, yet whatever labgate stores
    or ships of them is written out whole; a regular file is charged at least its size."""
    sparse = "import os\nfor i in range(4):\n    with open(f's{i}', 'wb') as f:\n        f.truncate(32 << 20)\n"
    with pytest.raises(ResourceLimitError) as raised:
        sandbox.exec(["python3", "-c", sparse], timeout=60, limits=Limits(disk_bytes=64 << 20))
    assert raised.value.limit == "disk_bytes"
    assert sandbox.exec(["python3", "-c", sparse.replace("range(4)", "range(1)")], timeout=60).returncode == 0
