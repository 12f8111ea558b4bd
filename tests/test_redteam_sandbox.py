"""More hostile candidates, on both backends: attacks the battery (`test_sandbox_battery.py`) does not try.

- the kernel keyring: a child inherits its parent's session keyring, and possessing it is enough to
  read the keys in it whatever the uid, so a labgate started in a session that holds credentials
  (a systemd service's private keyring, a login's) must not hand them to a candidate;
- a FIFO (or a socket) left where the harness later writes an input or reads an output through
  `Sandbox.write_file` / `read_file`: refused at once, never waited on;
- the host's abstract unix sockets and its filesystem sockets outside the directory;
- hard links from the directory to host files;
- a daemon hidden in a nested user and PID namespace, ignoring SIGTERM and SIGHUP;
- a user namespace of the candidate's own (where it holds every capability over new mount and network
  namespaces, the surface most kernel privilege escalations go through), by each system call that makes one;
- a wide address space (what a device runtime needs) taken as leave to use that much memory;
- a directory tree shaped to blind the disk watch: thousands of siblings (a walk holding a descriptor
  per pending directory runs out of them and skips the rest), or nesting past the watch's depth.

The battery's fixtures check the host after each attack (canary, core pattern, no process of a sandbox uid left).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from sandboxes import GIB, MIB, Limits, ResourceLimitError, SandboxError, SandboxPathError
from sandboxes._quota import MAX_DEPTH
from tests import test_sandbox_battery as battery
from tests.conftest import REPO
from tests.test_sandbox_battery import SMALL, Backend, Host, _alive, _everything, _leaks, _python, _wait_until_gone
from tests.test_sandbox_local import UNNAMED_FILL

# The battery's fixtures: a backend per parameter, and the host checked after each attack.
backend = battery.backend
host = battery.host

# Run by a separate interpreter that first joins a session keyring of its own and puts a secret in
# it, as a labgate started by systemd or from a login would hold one, then runs the probe sandboxed.
_KEYRING_HOST = r"""
import ctypes, json, sys
from pathlib import Path
from sandboxes import DockerSandboxConfig, LocalSandboxConfig, get_sandbox
from tests.test_sandbox_battery import SMALL
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
backend, workdir, secret, probe = sys.argv[1:5]
KEYCTL, ADD_KEY = {"x86_64": (250, 248), "aarch64": (219, 217)}[__import__("platform").machine()]
assert libc.syscall(KEYCTL, 1, b"labgate-test-session") > 0  # KEYCTL_JOIN_SESSION_KEYRING
assert libc.syscall(ADD_KEY, b"user", b"labgate-test-key", secret.encode(), len(secret), ctypes.c_long(-3)) > 0
config = LocalSandboxConfig() if backend == "local" else DockerSandboxConfig(image="kernels")
with get_sandbox(config, Path(workdir), limits=SMALL) as sandbox:
    result = sandbox.exec(["python3", "-c", probe], timeout=60)
    print(json.dumps({"stdout": result.stdout, "stderr": result.stderr, "uid": getattr(sandbox, "host_uid", None)
                      or getattr(sandbox, "uid", None)}))
"""

_KEYRING_PROBE = r"""
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
KEYCTL, REQUEST_KEY = {"x86_64": (250, 249), "aarch64": (219, 218)}[platform.machine()]
def call(*args):
    value = libc.syscall(*args)
    return value if value >= 0 else -ctypes.get_errno()
found = [call(KEYCTL, 10, ctypes.c_long(-3), b"user", b"labgate-test-key", 0),  # KEYCTL_SEARCH in @s
         call(REQUEST_KEY, b"user", b"labgate-test-key", None, 0)]
buffer = ctypes.create_string_buffer(256)
for key in found:
    if key > 0:
        size = call(KEYCTL, 11, ctypes.c_long(key), buffer, 256)  # KEYCTL_READ
        print("READ", buffer.raw[: max(size, 0)].decode(errors="replace"))
print("found", *found)
"""


def test_the_session_keyring_of_labgate_is_out_of_reach(backend: Backend, host: Host, tmp_path: Path) -> None:
    secret = f"labgate-keyring-secret-{secrets.token_hex(8)}"
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", _KEYRING_HOST, backend.name, str(workdir), secret, _KEYRING_PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    reply = json.loads(run.stdout.strip().splitlines()[-1])
    if isinstance(reply["uid"], int):
        backend.uids.add(reply["uid"])
    assert secret not in run.stdout, "a key of labgate's session keyring was read inside the sandbox"
    assert "READ" not in reply["stdout"], reply["stdout"]
    found = reply["stdout"].split("found", 1)[1].split()
    assert all(int(value) < 0 for value in found), f"the sandbox found the key: {found}"


def _returns_within(seconds: float, call: object) -> BaseException | None:
    """Run `call` in a thread; the exception it raised, None if it returned; fails if it is still running."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()  # type: ignore[operator]
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the host blocked on what the sandbox left in its directory"
    return outcome[0]


def test_fifos_and_sockets_left_for_the_host_are_refused_not_waited_on(
    backend: Backend, host: Host, tmp_path: Path
) -> None:
    attack = (
        "import os, socket\n"
        "os.mkfifo('Proof.v'); os.mkfifo('result.json')\n"
        "s = socket.socket(socket.AF_UNIX); s.bind('input.txt')\n"
        "os.makedirs('sub'); os.mkfifo('sub/out.log')\n"
        "print('left')\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        assert "left" in sandbox.exec(_python(attack), timeout=30).stdout
        for name in ("Proof.v", "input.txt"):
            error = _returns_within(5, lambda name=name: sandbox.write_file(name, "Theorem t : True."))
            assert isinstance(error, SandboxPathError) and "not a regular file" in str(error), error
        for name in ("result.json", "sub/out.log", "input.txt"):
            error = _returns_within(5, lambda name=name: sandbox.read_file(name))
            assert isinstance(error, SandboxPathError) and "not a regular file" in str(error), error
        # Ordinary files still go both ways, and replacing one the sandbox wrote truncates it.
        sandbox.exec(["sh", "-c", "printf 'a much longer text' > note.txt"], timeout=30)
        sandbox.write_file("note.txt", "short")
        assert sandbox.read_file("note.txt") == b"short"


def test_the_hosts_unix_sockets_are_unreachable(backend: Backend, host: Host, tmp_path: Path) -> None:
    name = f"labgate-abstract-{uuid.uuid4().hex}"
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0" + name)
    abstract.listen()
    path = tmp_path / "host.sock"
    named = socket.socket(socket.AF_UNIX)
    named.bind(str(path))
    named.listen()
    path.chmod(0o777)
    probe = (
        "import socket, sys\n"
        "for target in ['\\0' + sys.argv[1], sys.argv[2], '/var/run/docker.sock', '/run/docker.sock',\n"
        "               '/run/containerd/containerd.sock', '/var/run/postgresql/.s.PGSQL.5432']:\n"
        "    try:\n"
        "        s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect(target); print('OPEN', repr(target))\n"
        "    except OSError as error:\n"
        "        print('refused', error.errno)\n"
    )
    try:
        with backend.open(tmp_path / "work") as sandbox:
            result = sandbox.exec([*_python(probe), name, str(path)], timeout=30)
        for listener in (abstract, named):
            listener.setblocking(False)
            with pytest.raises(BlockingIOError):
                listener.accept()
    finally:
        abstract.close()
        named.close()
    assert "OPEN" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 6, result.stdout


def test_hard_links_to_host_files_cannot_be_made(backend: Backend, host: Host, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    targets = ["/etc/shadow", "/etc/passwd", "/usr/bin/env", str(host.canary)]
    attack = "".join(f"ln {target} link{i} 2>/dev/null && echo LINKED {target};" for i, target in enumerate(targets))
    with backend.open(workdir) as sandbox:
        result = sandbox.exec(["sh", "-c", attack + " echo done"], timeout=30)
    assert "LINKED" not in result.stdout, result.stdout
    host_inodes = {(os.stat(t).st_dev, os.stat(t).st_ino) for t in targets if os.path.exists(t)}
    for path in workdir.rglob("*"):
        info = path.lstat()
        assert (info.st_dev, info.st_ino) not in host_inodes, f"{path} is a host file"


def test_a_daemon_in_a_nested_namespace_dies_with_the_command(backend: Backend, host: Host, tmp_path: Path) -> None:
    marker = f"labgate-nested-{uuid.uuid4().hex}"
    attack = (
        f'unshare -Ur --fork --pid sh -c "setsid sh -c \'trap \\"\\" TERM HUP; exec -a {marker} sleep 300\''
        ' </dev/null >/dev/null 2>&1 &" 2>/dev/null;'
        f" (trap '' TERM HUP; setsid sh -c 'exec -a {marker}-plain sleep 300' </dev/null >/dev/null 2>&1 &);"
        " echo started"
    )
    with backend.open(tmp_path / "work") as sandbox:
        try:
            result = sandbox.exec(["sh", "-c", attack], timeout=30)
        except SandboxError as error:
            pytest.fail(f"the sandbox failed instead of running the attack: {error}")
        assert "started" in _everything(result)
        assert _wait_until_gone(lambda: _alive(marker), seconds=5) == [], "a daemon outlived the command"
    assert _leaks(host, _everything(result)) == []


# Every way to make a user namespace: unshare(2), clone(2) with the flag, and clone3(2) (which a filter on
# clone's flags cannot see, so it must fail too, ENOSYS included). Each prints its errno, or 0 if it worked.
_USERNS_PROBE = r"""
import ctypes, os, platform, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWUSER, SIGCHLD = 0x10000000, 17
CLONE, CLONE3 = {"x86_64": (56, 435), "aarch64": (220, 435)}[platform.machine()]
def outcome(value):
    if value < 0:
        return ctypes.get_errno()
    if value == 0:
        os._exit(0)  # the child of a clone that worked
    os.waitpid(value, 0)
    return 0
pid = os.fork()
if pid == 0:
    os._exit(0 if libc.unshare(CLONE_NEWUSER) == 0 else 1)
_, status = os.waitpid(pid, 0)
print("unshare", 0 if os.waitstatus_to_exitcode(status) == 0 else 1)
print("clone", outcome(libc.syscall(CLONE, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)))  # no stack: fork-like
clone_args = struct.pack("=11Q", CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0)
buffer = ctypes.create_string_buffer(clone_args, len(clone_args))
print("clone3", outcome(libc.syscall(CLONE3, buffer, ctypes.c_size_t(len(clone_args)))))
"""


def test_no_user_namespace_can_be_made_inside(backend: Backend, host: Host, tmp_path: Path) -> None:
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(_USERNS_PROBE), timeout=30)
    lines = dict(line.split() for line in result.stdout.splitlines())
    assert set(lines) == {"unshare", "clone", "clone3"}, _everything(result)
    assert lines["unshare"] != "0", "unshare(CLONE_NEWUSER) made a user namespace inside the sandbox"
    assert lines["clone"] != "0", "clone(CLONE_NEWUSER) made a user namespace inside the sandbox"
    assert lines["clone3"] != "0", "clone3(CLONE_NEWUSER) made a user namespace inside the sandbox"
    assert _leaks(host, _everything(result)) == []


def test_a_wide_address_space_is_not_leave_to_use_that_much_memory(
    backend: Backend, host: Host, tmp_path: Path
) -> None:
    """A worker gets 2 GiB of address space but 192 MiB of memory: mapping 1 GiB it never touches is fine
    (a device runtime does that), touching 320 MiB of it is a memory breach, not a host-sized allowance."""
    probe = (
        "import mmap, sys\n"
        "region = mmap.mmap(-1, 1 << 30)\n"
        "print('mapped', flush=True)\n"
        "for i in range(0, int(sys.argv[1]) << 20, 4096): region[i] = 1\n"
        "print('touched', flush=True)\n"
    )
    limits = SMALL.with_(memory_bytes=192 * MIB, address_space_bytes=2 * GIB)
    with backend.open(tmp_path / "work", limits=limits) as sandbox:
        if "memory_bytes" not in sandbox.describe().get("aggregate_limits", ["memory_bytes"]):
            assert os.geteuid() != 0, f"no aggregate memory limit as root: {sandbox.describe().get('memory_limit')}"
            pytest.skip(f"no aggregate memory limit here: {sandbox.describe().get('memory_limit')}")
        light = sandbox.exec([*_python(probe), "64"], timeout=60, limits=limits)
        assert "mapped" in light.stdout and "touched" in light.stdout, _everything(light)
        with pytest.raises(ResourceLimitError) as caught:
            sandbox.exec([*_python(probe), "320"], timeout=60, limits=limits)
    assert caught.value.limit == "memory_bytes"
    assert "touched" not in _everything(caught.value.partial)
    assert _leaks(host, _everything(light)) == []


def test_sibling_directories_cannot_blind_the_disk_watch(backend: Backend, host: Host, tmp_path: Path) -> None:
    """3000 sibling directories, 16 KiB in each: a walk holding a descriptor per pending directory runs out
    of descriptors (1024, a service's usual limit) and misses most of the 59 MiB under a 32 MiB limit."""
    spread = (
        "import os, time\n"
        "for i in range(3000):\n"
        "    os.mkdir(f'd{i}')\n"
        "    with open(f'd{i}/blob', 'wb') as out: out.write(b'\\1' * (16 << 10))\n"
        "print('spread', flush=True)\n"
        "time.sleep(5)\n"
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        limits = battery.SMALL.with_(files=100_000)
        with backend.open(tmp_path / "work", limits=limits) as sandbox, pytest.raises(ResourceLimitError) as caught:
            sandbox.exec(_python(spread), timeout=60)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert caught.value.limit == "disk_bytes", caught.value


def test_a_directory_nested_beyond_the_watch_is_a_breach(backend: Backend, host: Host, tmp_path: Path) -> None:
    nest = (
        "import os, time\n"
        "for _ in range(MAX_DEPTH + 20):\n"
        "    os.mkdir('d'); os.chdir('d')\n"
        "print('nested', flush=True)\n"
        "time.sleep(5)\n"
    ).replace("MAX_DEPTH", str(MAX_DEPTH))
    with backend.open(tmp_path / "work") as sandbox, pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(_python(nest), timeout=60)
    assert caught.value.limit == "disk_bytes"
    assert "deeper than" in str(caught.value)


def test_memory_maps_too_long_to_read_are_a_breach_not_a_stall(backend: Backend, host: Host, tmp_path: Path) -> None:
    """Four processes mapping one file with a 4,000-character path 60,000 times each: the watch read every
    process's maps whole (about 250 MB each, 39 s a check) in the loop that enforces the wall clock, and a
    30 s command ran 96 s while nothing checked its directory."""
    flood = (
        "import ctypes, os, time\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.mmap.restype = ctypes.c_void_p\n"
        "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,\n"
        "                      ctypes.c_long]\n"
        "path = os.getcwd()\n"
        "while len(path) < 3700:\n"
        "    path += '/' + 'd' * 200\n"
        "os.makedirs(path, exist_ok=True)\n"
        "name = path + '/' + 'f' * (4000 - len(path) - 1)\n"
        "with open(name, 'wb') as out: out.write(bytes(4096))\n"
        "fd = os.open(name, os.O_RDONLY)\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0: break\n"
        "for _ in range(60000):\n"
        "    if libc.mmap(None, 4096, 1, 1, fd, 0) in (None, ctypes.c_void_p(-1).value): break\n"
        "print('mapped', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with backend.open(tmp_path / "work") as sandbox, pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(_python(flood), timeout=30)
    assert caught.value.limit == "disk_bytes", caught.value
    assert "cannot be measured" in str(caught.value) and "memory maps" in str(caught.value)
    assert time.monotonic() - started < 20


def test_the_shell_labgate_scripts_run_in_cannot_be_written_by_its_commands(
    backend: Backend, host: Host, tmp_path: Path
) -> None:
    """A step opened its step shell's `/proc/<pid>/mem` (same uid; seccomp refuses ptrace, not that file) and
    wrote code there: the shell reported every step done and exited 0, the trusted step after it never ran. In
    Docker the same rewrote the wrapper's `kill -9 -1`, and a process lived on into the next experiment."""
    probe = (
        "import os\n"
        "for name in ('mem', 'syscall'):\n"
        "    try:\n"
        "        open(f'/proc/{os.getppid()}/{name}', 'rb').close(); print(name, 'opened')\n"
        "    except OSError as error: print(name, 'refused', error.errno)\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        sandbox.write_file("probe.py", probe)
        result = sandbox.exec([sandbox.shell, "-c", "python3 probe.py; true"], timeout=60)
    assert sandbox.shell != "sh", "the guarded shell could not be made on this machine"
    assert "mem refused" in result.stdout and "syscall refused" in result.stdout, result.stdout
    assert "opened" not in result.stdout


_VSOCK_AND_IO_URING_PROBE = (
    "import ctypes, os, socket\n"
    "try:\n"
    "    socket.socket(40, socket.SOCK_STREAM); print('VSOCK-OPEN')\n"
    "except OSError as error:\n"
    "    print('vsock', error.errno)\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "params = ctypes.create_string_buffer(120)\n"
    "fd = libc.syscall(425, 4, params)\n"
    "print('io_uring', fd, ctypes.get_errno())\n"
    "socket.socket(socket.AF_UNIX).close(); print('unix ok')\n"
)


def test_vsock_and_io_uring_are_refused(backend: Backend, host: Host, tmp_path: Path) -> None:
    """A network namespace does not isolate vsock (the VM's channel to its host), and io_uring makes
    sockets without passing through the seccomp filter: both are refused, ordinary sockets are not."""
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(_VSOCK_AND_IO_URING_PROBE), timeout=30)
    assert result.returncode == 0, result.stderr
    assert "VSOCK-OPEN" not in result.stdout and "vsock 1\n" in result.stdout, result.stdout
    ring = result.stdout.split("io_uring ", 1)[1].split()
    assert ring[0] == "-1" and int(ring[1]) in (errno.EPERM, errno.ENOSYS), result.stdout
    assert "unix ok" in result.stdout


_TRACE_PROBE = r"""
import ctypes, os, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
PTRACE, VM_READV, VM_WRITEV, PIDFD_OPEN, PIDFD_GETFD = {
    "x86_64": (101, 310, 311, 434, 438), "aarch64": (117, 270, 271, 434, 438)}[platform.machine()]
def call(*args):
    value = libc.syscall(*args)
    return "ok" if value >= 0 else os.strerror(ctypes.get_errno())
parent = os.getppid()
attached = libc.syscall(PTRACE, 16, parent, 0, 0)  # PTRACE_ATTACH
if attached == 0:
    os.waitpid(parent, 0x40000000)  # __WALL: the stop, then let it go on
    libc.syscall(PTRACE, 17, parent, 0, 0)  # PTRACE_DETACH
    print("ATTACHED")
print("ptrace", "ok" if attached == 0 else os.strerror(ctypes.get_errno()))
buffer = ctypes.create_string_buffer(8)
local = (ctypes.c_void_p * 2)(ctypes.cast(buffer, ctypes.c_void_p), 8)
remote = (ctypes.c_void_p * 2)(ctypes.cast(buffer, ctypes.c_void_p), 8)
print("readv", call(VM_READV, os.getpid(), local, 1, remote, 1, 0))
print("writev", call(VM_WRITEV, os.getpid(), local, 1, remote, 1, 0))
pidfd = libc.syscall(PIDFD_OPEN, os.getpid(), 0)
print("getfd", call(PIDFD_GETFD, pidfd, 1, 0) if pidfd >= 0 else "no pidfd_open")
"""


def test_a_command_can_trace_no_process_nor_reach_into_its_memory(backend: Backend, host: Host, tmp_path: Path) -> None:
    """With no Yama LSM a command may trace any process of its uid: in a Docker container, the shell wrapping
    it. A red-team payload turned that shell's `wait4` into `exit_group(0)`, so its `kill -9 -1` never ran
    and the exec reported 0 while forked processes went on rewriting the results; the same against the warm
    container's reset let one experiment's process live into the next's container. ptrace, the
    process_vm calls and pidfd_getfd are refused, even on the command's own memory."""
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(_TRACE_PROBE), timeout=30)
    assert result.returncode == 0, result.stderr
    assert "ATTACHED" not in result.stdout, result.stdout
    denied = os.strerror(errno.EPERM)
    assert result.stdout.splitlines() == [f"ptrace {denied}", f"readv {denied}", f"writev {denied}", f"getfd {denied}"]


_AIO_PROBE = r"""
import ctypes, os, platform
libc = ctypes.CDLL(None, use_errno=True)
IO_SETUP = {"x86_64": 206, "aarch64": 0}[platform.machine()]
context = ctypes.c_ulong(0)
found = libc.syscall(IO_SETUP, 128, ctypes.byref(context))
print("io_setup", "ok" if found == 0 else os.strerror(ctypes.get_errno()))
"""


def test_native_aio_contexts_are_refused(backend: Backend, host: Host, tmp_path: Path) -> None:
    """Linux native AIO contexts come from one kernel-wide pool (`fs.aio-max-nr`) that no rlimit or cgroup
    counts: one sandbox reserved all 65536 events, and root processes on the host got EAGAIN from io_setup."""
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(_AIO_PROBE), timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"io_setup {os.strerror(errno.EPERM)}"


_PTY_PROBE = r"""
import os
for path in ("/dev/ptmx", "/dev/pts/ptmx"):
    try:
        os.close(os.open(path, os.O_RDWR | os.O_NOCTTY))
        print(path, "opened")
    except OSError as error:
        print(path, error.errno)
try:
    open("/dev/pts/ptmx", "w").close()
    print("created")
except OSError as error:
    print("create", error.errno)
"""


def test_no_pseudo_terminal_can_be_opened(backend: Backend, host: Host, tmp_path: Path) -> None:
    """Every sandbox's devpts and every container's draws on one kernel-wide pool (`kernel.pty.max`, 4096
    with 1024 kept for the host): one sandbox held 3072, and a neighbour then got ENOSPC from /dev/ptmx."""
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(_PTY_PROBE), timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [f"/dev/ptmx {errno.ENOENT}", f"/dev/pts/ptmx {errno.ENOENT}", f"create {errno.EROFS}"], lines


def test_files_held_open_with_no_name_count_against_the_disk_limit_in_both_backends(
    backend: Backend, host: Host, tmp_path: Path
) -> None:
    """Unlinked and O_TMPFILE files take disk no walk of the directory finds; the docker backend missed them."""
    if os.geteuid() != 0:
        pytest.skip("the host reads a sandbox's descriptors only as root")
    limits = Limits(disk_bytes=16 << 20, memory_bytes=256 * MIB, processes=64, file_bytes=64 * MIB)
    with backend.open(tmp_path / "work", limits=limits) as sandbox:
        with pytest.raises(ResourceLimitError) as raised:
            sandbox.exec(_python(UNNAMED_FILL), timeout=60)
        assert raised.value.limit == "disk_bytes"
        worker = sandbox.spawn(_python(UNNAMED_FILL))
        try:
            deadline = time.monotonic() + 30
            while worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert worker.poll() is not None, "a worker holding 48 MiB of unnamed files against 16 was not stopped"
            assert "disk_bytes" in worker.stderr_tail(), worker.stderr_tail()
        finally:
            worker.kill()


_ACL_AND_GROUP_WRITE = """
import os, struct
uid = os.getuid()
def acl(*entries):
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', tag, perm, who) for tag, perm, who in entries)
ANY = 0xFFFFFFFF
grant = acl((0x01, 7, ANY), (0x02, 7, uid), (0x04, 5, ANY), (0x10, 7, ANY), (0x20, 5, ANY))
open('out.txt', 'w').write('result')
os.mkdir('folder')
os.chmod('out.txt', 0o664)
os.chmod('folder', 0o775)
try:
    for path in ('out.txt', 'folder', '.'):
        os.setxattr(path, 'system.posix_acl_access', grant)
    os.setxattr('folder', 'system.posix_acl_default', grant)
    print('acls set')
except OSError as error:
    print('no acls', error.errno)
"""


def test_acls_and_group_write_do_not_survive_the_hand_back(backend: Backend, host: Host, tmp_path: Path) -> None:
    """ACLs outlive chown and chmod: entries for the command's own uid (lent to later experiments) stayed."""
    workdir = tmp_path / "work"
    with backend.open(workdir) as sandbox:
        result = sandbox.exec(_python(_ACL_AND_GROUP_WRITE), timeout=30)
    assert result.returncode == 0, result.stderr
    if "acls set" not in result.stdout:
        pytest.skip(f"this filesystem keeps no ACLs: {result.stdout}")
    for path in (workdir, workdir / "out.txt", workdir / "folder"):
        names = os.listxattr(path, follow_symlinks=False)
        assert not [name for name in names if name.startswith("system.posix_acl")], (path, names)
    for path in (workdir / "out.txt", workdir / "folder"):
        assert not path.lstat().st_mode & (stat.S_IWGRP | stat.S_IWOTH), (path, oct(path.lstat().st_mode))
    assert (workdir / "out.txt").read_text() == "result"


def test_the_guarded_shell_is_made_again_when_the_temporary_folder_lost_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server running for weeks outlives its temporary files: a copy cleaned away would fail every command.
    (In a folder of the test's own: other workers' sandboxes bind the shared copy meanwhile.)"""
    import tempfile

    from sandboxes import _guarded_shell

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(_guarded_shell, "_made", [])
    first = _guarded_shell.guarded_shell_source()
    assert first is not None and first.parent.parent == tmp_path and first.stat().st_mode & 0o7777 == 0o111
    first.unlink()
    again = _guarded_shell.guarded_shell_source()
    assert again is not None and again.is_file() and again.stat().st_mode & 0o7777 == 0o111
