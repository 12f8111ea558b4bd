"""A hostile battery, run on every backend: payloads written as a candidate that wants out would write them.

Each test runs one attack through the real backend and then checks the host, not the sandbox's
word: a canary file outside the experiment directory, the kernel's core pattern, the process
table, ownership and modes of what was left behind, and whether a secret or a host file's content
reached anything the sandbox can report (its output, its directory, the host-side reads of it).

Limits are kept small so the battery runs in seconds per backend. `local` needs bubblewrap;
`docker` needs a running engine and the `kernels` image (skipped locally without them, required
in CI). The whole local battery is also re-run as an ordinary user (the last test).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runs import UntrustedFileError, read_untrusted, walk_untrusted
from sandboxes import (
    MIB,
    DockerSandboxConfig,
    ExecResult,
    Limits,
    LocalSandboxConfig,
    ResourceLimitError,
    Sandbox,
    SandboxError,
    SandboxPool,
    SandboxTimeoutError,
    get_sandbox,
    open_sandboxes,
)
from tests.conftest import REPO, docker_image

DISK_BYTES = 32 * MIB
FILES = 500
TMP_BYTES = 16 * MIB
SMALL = Limits(
    memory_bytes=256 * MIB,
    processes=64,
    file_bytes=64 * MIB,
    output_bytes=256 * 1024,
    disk_bytes=DISK_BYTES,
    files=FILES,
    tmp_bytes=TMP_BYTES,
)
SANDBOX_UID_FLOOR = 2_000_000_000
ROOT_SECRET_ENV = "LABGATE_BATTERY_ROOT_SECRET"
ORDINARY_USER_ENV = "LABGATE_BATTERY_ORDINARY_USER"


@dataclass
class Backend:
    """How the battery makes sandboxes of one backend, and which sandbox uids it saw (to hunt leftovers)."""

    name: str
    config: LocalSandboxConfig | DockerSandboxConfig
    uids: set[int] = field(default_factory=set)
    pools: list[SandboxPool] = field(default_factory=list)

    def open(self, workdir: Path, *, limits: Limits = SMALL, ro_paths: tuple[Path, ...] = ()) -> Sandbox:
        workdir.mkdir(parents=True, exist_ok=True)
        sandbox = get_sandbox(self.config, workdir, limits=limits, ro_paths=ro_paths)
        self.track(sandbox)
        return sandbox

    def pool(self, shared_root: Path) -> SandboxPool:
        pool = open_sandboxes(self.config, shared_root=shared_root, limits=SMALL)
        self.pools.append(pool)
        return pool

    def track(self, sandbox: Sandbox) -> None:
        uid = getattr(sandbox, "host_uid", None) or getattr(sandbox, "uid", None)
        if isinstance(uid, int) and uid >= SANDBOX_UID_FLOOR:
            self.uids.add(uid)


@pytest.fixture(params=["local", "docker"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    config: LocalSandboxConfig | DockerSandboxConfig
    if request.param == "local":
        request.getfixturevalue("bubblewrap")
        config = LocalSandboxConfig()
    else:
        docker_image("kernels")
        config = DockerSandboxConfig(image="kernels")
    made = Backend(request.param, config)
    yield made
    for pool in made.pools:
        pool.close()


@dataclass
class Host:
    """What must not change on the host while an attack runs."""

    canary: Path
    canary_text: str
    secret: str
    core_pattern: str


def _processes_of(uids: set[int]) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
        if re.search(r"^State:\s+Z", status, re.MULTILINE):
            continue  # a zombie runs nothing and holds nothing; its reaper may simply not have run yet
        if match and int(match.group(1)) in uids:
            found.append(f"{entry.name} (uid {match.group(1)})")
    return found


def _wait_until_gone(check: Callable[[], list[str]], seconds: float = 5.0) -> list[str]:
    """What `check` still finds after `seconds` (empty as soon as it finds nothing)."""
    deadline = time.monotonic() + seconds
    while True:
        left = check()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _alive(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
    return [pid for pid in found.stdout.split() if int(pid) != os.getpid()]


@pytest.fixture
def host(tmp_path: Path, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Host]:
    """A canary and a secret on the host, checked after the attack; no process of a sandbox uid may survive it."""
    secret = f"labgate-secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    outside = tmp_path / "host"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary_text = f"canary {secrets.token_hex(8)}\n"
    canary.write_text(canary_text)
    state = Host(canary, canary_text, secret, Path("/proc/sys/kernel/core_pattern").read_text())
    yield state
    assert canary.read_text() == canary_text, "the canary outside the experiment directory changed"
    assert sorted(p.name for p in outside.iterdir()) == ["canary.txt"], "something was written next to the canary"
    assert Path("/proc/sys/kernel/core_pattern").read_text() == state.core_pattern
    for pool in backend.pools:
        pool.close()
    backend.pools.clear()
    left = _wait_until_gone(lambda: _processes_of(backend.uids))
    assert left == [], f"processes of the sandbox's uid outlived it: {left}"


def _leaks(host: Host, *texts: str) -> list[str]:
    """Which of the host's secrets appear in `texts`."""
    shadow_hashes = []
    try:
        for line in Path("/etc/shadow").read_text().splitlines():
            parts = line.split(":")
            if len(parts) > 1 and len(parts[1]) > 3:
                shadow_hashes.append(parts[1])
    except OSError:
        pass
    needles = [host.secret, host.canary_text.strip(), *shadow_hashes]
    return [needle for needle in needles if any(needle in text for text in texts)]


def _directory_text(root: Path) -> str:
    """Everything the harness could ingest from `root`, read the way it reads sandbox output."""
    parts = []
    for entry in walk_untrusted(root):
        if entry.kind == "file":
            try:
                data = read_untrusted(root, entry.relative, max_bytes=4 * MIB, timeout=2)
                parts.append(data.decode(errors="replace"))
            except UntrustedFileError as refused:
                parts.append(str(refused))
    return "\n".join(parts)


def _everything(result: ExecResult | None) -> str:
    return "" if result is None else result.stdout + result.stderr


def _python(code: str) -> list[str]:
    return ["python3", "-c", code]


# --- resources -------------------------------------------------------------------------------


def test_fork_bomb_is_bounded_and_leaves_nothing(backend: Backend, host: Host, tmp_path: Path) -> None:
    marker = f"labgate-bomb-{uuid.uuid4().hex}"
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 5000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n, flush=True)\n"
        "os._exit(0)\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec([*_python(bomb), marker], timeout=60, limits=SMALL.with_(processes=32))
        forks = int(result.stdout.split()[0])
        assert forks < 32, f"{forks} processes under a limit of 32"
        assert _wait_until_gone(lambda: _alive(marker)) == [], "the bomb's children outlived the command"
        # The machine still forks for everyone else, and the sandbox itself is usable afterwards.
        assert sandbox.exec(["true"], timeout=30).success


def test_memory_is_limited_for_the_sandbox_as_a_whole(backend: Backend, host: Host, tmp_path: Path) -> None:
    # Four processes of 96 MiB each: every one passes a per-process limit of 160 MiB, together they do not.
    hog = (
        "import os, time\n"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(96 << 20)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        print('held', flush=True); time.sleep(4); os._exit(0)\n"
        "for _ in range(4): os.wait()\n"
    )
    limits = SMALL.with_(memory_bytes=160 * MIB)
    with backend.open(tmp_path / "work", limits=limits) as sandbox:
        if "memory_bytes" not in sandbox.describe().get("aggregate_limits", ["memory_bytes"]):
            # Only an ordinary user may lack it (no writable cgroup); a root labgate must bound the whole sandbox.
            assert os.geteuid() != 0, f"no aggregate memory limit as root: {sandbox.describe().get('memory_limit')}"
            pytest.skip(f"no aggregate memory limit here: {sandbox.describe().get('memory_limit')}")
        with pytest.raises(ResourceLimitError) as caught:
            sandbox.exec(_python(hog), timeout=60, limits=limits)
    assert caught.value.limit == "memory_bytes"
    assert "memory" in str(caught.value)
    assert _everything(caught.value.partial).count("held") < 4


def test_tmp_is_small_and_private(backend: Backend, host: Host, tmp_path: Path) -> None:
    name = f"labgate-tmp-hog-{uuid.uuid4().hex}"
    # Every RAM filesystem a candidate might find writable, each filled up to 48 MiB (bounded, so a
    # missing limit fails the test instead of eating the host's memory).
    hog = (
        "import sys\n"
        "for place in ('/tmp', '/dev/shm', '/dev', '/', '/run', '/var/tmp'):\n"
        "    n = 0\n"
        "    try:\n"
        f"        with open(place.rstrip('/') + '/{name}', 'wb') as out:\n"
        "            while n < (48 << 20):\n"
        "                out.write(b'x' * (1 << 20)); out.flush(); n += 1 << 20\n"
        "    except OSError:\n"
        "        pass\n"
        "    print(place, n, flush=True)\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        try:
            result = sandbox.exec(_python(hog), timeout=60)
        except ResourceLimitError as error:
            assert error.limit in ("tmp_bytes", "memory_bytes")
        else:
            written = {place: int(count) for place, count in (line.split() for line in result.stdout.splitlines())}
            assert written["/tmp"] > 0, "the sandbox has no writable /tmp at all"
            for place, count in written.items():
                assert count <= TMP_BYTES + MIB, f"{place} took {count} bytes under a limit of {TMP_BYTES}"
    assert not Path(f"/tmp/{name}").exists(), "the sandbox's /tmp is the host's"
    assert not Path(f"/dev/shm/{name}").exists(), "the sandbox's /dev/shm is the host's"


def test_disk_fill_is_stopped_while_it_runs(backend: Backend, host: Host, tmp_path: Path) -> None:
    # Bounded at 1 GiB so that a sandbox without a disk limit fails here instead of filling the host's disk.
    fill = (
        "import time\n"
        "for i in range(256):\n"
        "    with open(f'chunk{i}', 'wb') as out: out.write(b'\\1' * (4 << 20))\n"
        "time.sleep(30)\n"
    )
    workdir = tmp_path / "work"
    start = time.monotonic()
    with backend.open(workdir) as sandbox, pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(_python(fill), timeout=120)
    assert caught.value.limit == "disk_bytes"
    assert time.monotonic() - start < 20, "the disk limit was only noticed when the command ended"
    used = sum(p.lstat().st_blocks * 512 for p in workdir.rglob("*"))
    assert used < 16 * DISK_BYTES, f"{used} bytes were left under a limit of {DISK_BYTES}"


def test_file_count_flood_is_stopped(backend: Backend, host: Host, tmp_path: Path) -> None:
    flood = "import os, time\nos.mkdir('d')\nfor i in range(20000): open(f'd/f{i}', 'w').close()\ntime.sleep(30)\n"
    start = time.monotonic()
    with backend.open(tmp_path / "work") as sandbox, pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(_python(flood), timeout=120)
    assert caught.value.limit == "files"
    assert time.monotonic() - start < 20, "the file-count limit was only noticed when the command ended"


def test_infinite_loop_meets_the_wall_clock(backend: Backend, host: Host, tmp_path: Path) -> None:
    marker = f"labgate-spin-{uuid.uuid4().hex}"
    start = time.monotonic()
    with backend.open(tmp_path / "work") as sandbox, pytest.raises(SandboxTimeoutError):
        sandbox.exec(["sh", "-c", f"python3 -c 'while True: pass' {marker} & while :; do :; done"], timeout=2)
    assert time.monotonic() - start < 20
    assert _wait_until_gone(lambda: _alive(marker)) == []


# --- reaching out ----------------------------------------------------------------------------


def test_no_network_not_even_the_hosts_loopback(backend: Backend, host: Host, tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    probe = (
        "import socket\n"
        f"for host, port in [('127.0.0.1', {port}), ('localhost', {port}), ('1.1.1.1', 80), ('8.8.8.8', 53)]:\n"
        "    try:\n"
        "        s = socket.create_connection((host, port), timeout=2); s.sendall(b'hello'); print(host, 'OPEN')\n"
        "    except OSError as error:\n"
        "        print(host, 'refused', error.errno)\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(probe), timeout=60)
    # A connection that reached the listener would wait in its backlog, handshake done: none may be there.
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    assert "OPEN" not in result.stdout, result.stdout
    assert result.stdout.count("refused") == 4


def test_writes_outside_the_directory_change_nothing(backend: Backend, host: Host, tmp_path: Path) -> None:
    workdir = tmp_path / "exp" / "work"
    targets = [
        host.canary,
        host.canary.parent / "planted",
        workdir.parent / "sibling",
        REPO / f"labgate-planted-{uuid.uuid4().hex}",
        Path("/etc/labgate-planted"),
        Path("/usr/labgate-planted"),
        Path("/root/labgate-planted"),
    ]
    script = "; ".join(f"echo pwned > {target} 2>/dev/null && echo wrote {target}" for target in targets)
    with backend.open(workdir) as sandbox:
        result = sandbox.exec(["sh", "-c", f"{script}; echo done"], timeout=30)
    assert result.stdout.strip().endswith("done")
    for target in targets[1:]:
        assert not target.exists(), f"{target} was created on the host"


def test_root_only_host_files_stay_unread(backend: Backend, host: Host, tmp_path: Path) -> None:
    secret_file, secret = _root_only_file(tmp_path)
    probe = (
        f"for path in ('/etc/shadow', {str(secret_file)!r}):\n"
        "    try:\n"
        "        print(path, open(path).read())\n"
        "    except OSError as error:\n"
        "        print(path, 'denied', error.errno)\n"
    )
    workdir = tmp_path / "work"
    with backend.open(workdir, ro_paths=(secret_file.parent,)) as sandbox:
        result = sandbox.exec(["sh", "-c", 'python3 -c "$0" > stolen.txt 2>&1; cat stolen.txt; env', probe], timeout=30)
    assert result.stdout.count("denied") == 2, result.stdout
    leaked = _leaks(host, _everything(result), _directory_text(workdir))
    assert leaked == [] and secret not in _everything(result) + _directory_text(workdir)


def _root_only_file(tmp_path: Path) -> tuple[Path, str]:
    """A 0600 root file in a directory everyone may enter, and its content.

    Made here when this run is root; the ordinary-user run is handed one made by the root run.
    """
    if os.geteuid() != 0:
        handed = os.environ.get(ROOT_SECRET_ENV)
        if not handed:
            pytest.skip("making a root-only file needs root; the ordinary-user run is handed one")
        return Path(handed), os.environ[ROOT_SECRET_ENV + "_TEXT"]
    directory = tmp_path / "root-only"
    directory.mkdir()
    directory.chmod(0o755)
    path = directory / "secret.txt"
    text = f"root-only {secrets.token_hex(8)}"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path, text


def test_kernel_interfaces_are_read_only(backend: Backend, host: Host, tmp_path: Path) -> None:
    attack = (
        "for path, value in [('/proc/sys/kernel/core_pattern', '|/tmp/x %p'), ('/proc/sys/kernel/hostname', 'pwned'),"
        " ('/proc/sys/vm/drop_caches', '3'), ('/proc/sysrq-trigger', 'h')]:\n"
        "    try:\n"
        "        with open(path, 'w') as f: f.write(value)\n"
        "        print(path, 'WRITTEN')\n"
        "    except OSError as error:\n"
        "        print(path, 'denied', error.errno)\n"
    )
    hostname = socket.gethostname()
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec(_python(attack), timeout=30)
    assert "WRITTEN" not in result.stdout, result.stdout
    assert socket.gethostname() == hostname


# --- what is left behind ---------------------------------------------------------------------


def test_set_id_leftovers_are_neutralised(backend: Backend, host: Host, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    owner = os.getuid()
    if os.geteuid() == 0:
        owner = 4242  # an ordinary user's directory: afterwards nothing in it may belong to root
        os.chown(workdir, owner, owner)
    attack = (
        "cp /bin/sh ./rootshell; chmod 6755 ./rootshell; chown 0:0 ./rootshell 2>/dev/null;"
        " mkdir sgid && chmod 2775 sgid && cp /bin/sh sgid/sh && chmod 4755 sgid/sh;"
        " ./rootshell -p -c 'id -u' > inside-uid.txt; ls -ln > listing.txt; echo done"
    )
    with backend.open(workdir) as sandbox:
        result = sandbox.exec(["sh", "-c", attack], timeout=30)
        assert result.stdout.strip().endswith("done")
    assert (workdir / "inside-uid.txt").read_text().strip() != "0", "a set-uid file gave root inside"
    for path in [workdir, *workdir.rglob("*")]:
        info = path.lstat()
        assert not info.st_mode & (stat.S_ISUID | stat.S_ISGID), f"{path} kept a set-id bit ({oct(info.st_mode)})"
        assert info.st_uid == owner, f"{path} belongs to uid {info.st_uid}, not the directory's owner {owner}"
        assert info.st_uid < SANDBOX_UID_FLOOR


def test_links_fifos_and_sparse_files_are_refused_on_ingestion(backend: Backend, host: Host, tmp_path: Path) -> None:
    store = tmp_path / "labgate.db"
    store.write_text(f"the store {host.secret}\n")
    workdir = tmp_path / "exp" / "work"
    attack = (
        "ln -s /etc/shadow log.shadow; ln -s /proc/self/environ log.environ; ln -s ../../labgate.db log.store;"
        " ln -s /proc/kmsg log.kmsg; ln -s / rootdir; mkfifo log.fifo; truncate -s 20M log.sparse;"
        " mkdir logs && ln -s ../../../labgate.db logs/log.solver; echo done"
    )
    with backend.open(workdir) as sandbox:
        result = sandbox.exec(["sh", "-c", attack], timeout=30)
        assert result.stdout.strip().endswith("done"), result.stderr
    names = ("log.shadow", "log.environ", "log.store", "log.kmsg", "log.fifo", "log.sparse", "logs/log.solver")
    for name in names:
        assert os.path.lexists(workdir / name), f"the payload did not leave {name}"
    assert (workdir / "log.sparse").lstat().st_blocks * 512 < MIB, "the sparse file is not sparse"
    start = time.monotonic()
    refused = []
    for name in names:
        with pytest.raises(UntrustedFileError) as caught:
            read_untrusted(workdir, name, max_bytes=8 * MIB, timeout=3)
        refused.append(str(caught.value))
    with pytest.raises(UntrustedFileError):
        read_untrusted(workdir, "rootdir/etc/passwd", timeout=3)
    assert time.monotonic() - start < 10, "ingestion hung on a FIFO or a device"
    assert _leaks(host, *refused) == []


# --- the supervisor and the neighbours --------------------------------------------------------


def test_the_sandbox_cannot_kill_its_supervisor(backend: Backend, host: Host, tmp_path: Path) -> None:
    supervisor = os.getpid()
    attack = (
        f"kill -9 {supervisor} 2>/dev/null && echo killed-host;"
        f" python3 -c 'import os; os.kill({supervisor}, 9)' 2>/dev/null && echo killed-host-py;"
        " kill -9 $PPID 2>/dev/null; kill -9 1 2>/dev/null; kill -9 -1 2>/dev/null; echo survived"
    )
    with backend.open(tmp_path / "work") as sandbox:
        start = time.monotonic()
        try:
            result: ExecResult | None = sandbox.exec(["sh", "-c", attack], timeout=30)
        except SandboxError:
            result = None
        assert time.monotonic() - start < 25, "killing the sandbox's own init hung the supervisor"
        assert "killed-host" not in _everything(result)
        # The supervisor (this process) lives on and the sandbox still serves the next command.
        again = sandbox.exec(["sh", "-c", "echo alive"], timeout=30)
        assert again.stdout.strip() == "alive"


def test_orphan_daemons_die_with_the_command(backend: Backend, host: Host, tmp_path: Path) -> None:
    marker = f"labgate-daemon-{uuid.uuid4().hex}"
    daemon = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        for fd in (0, 1, 2): os.close(fd)\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "print('detached')\n"
    )
    with backend.open(tmp_path / "work") as sandbox:
        result = sandbox.exec([*_python(daemon), marker], timeout=30)
        assert "detached" in result.stdout
        assert _wait_until_gone(lambda: _alive(marker), seconds=3) == [], "a double-forked daemon outlived exec"


def test_a_sandbox_sees_no_other_experiment(backend: Backend, host: Host, tmp_path: Path) -> None:
    root = tmp_path / "run"
    root.mkdir()
    pool = backend.pool(root)
    write = "echo $0 > result.txt; mkdir -p keep && cp result.txt keep/"
    finished = pool(root / "exp-1")
    backend.track(finished)
    finished.exec(["sh", "-c", write, host.secret], timeout=30)
    finished.close()
    still_open = pool(root / "exp-2")
    backend.track(still_open)
    still_open.exec(["sh", "-c", write, host.secret], timeout=30)
    # A neighbour that finished and one that is still open: neither may be listed or read.
    peek = (
        "ls -laR .. 2>/dev/null; echo ---;"
        " for d in exp-1 exp-2; do cat ../$d/result.txt $0/$d/result.txt $0/$d/keep/result.txt; done 2>&1;"
        " find / -name result.txt -not -path '/proc/*' 2>/dev/null; echo done"
    )
    seen = pool(root / "exp-3")
    backend.track(seen)
    try:
        result = seen.exec(["sh", "-c", peek, str(root)], timeout=60)
        assert result.stdout.strip().endswith("done")
        assert _leaks(host, _everything(result)) == [], "another experiment's output was readable"
        listing = result.stdout.split("---")[0]
        assert "exp-1" not in listing and "exp-2" not in listing, f"a neighbour could be listed: {listing}"
    finally:
        seen.close()
        still_open.close()


# --- the same guarantees for an ordinary user -------------------------------------------------


def test_the_local_battery_holds_for_an_ordinary_user(tmp_path: Path) -> None:
    """Re-run this file's local battery as an unprivileged uid: bubblewrap's own user namespace, no cgroups."""
    if os.geteuid() != 0:
        pytest.skip("switching to an ordinary user needs root (this run already is one)")
    if os.environ.get(ORDINARY_USER_ENV):
        pytest.skip("already the ordinary-user run")
    uid = 1_500_000_000 + secrets.randbelow(1_000_000)
    base = Path(tempfile.mkdtemp(prefix="labgate-battery-user-"))
    try:
        base.chmod(0o700)
        os.chown(base, uid, uid)
        secret_file, secret = _root_only_file(tmp_path)
        _reachable_for_others(Path(sys.executable).resolve())
        _reachable_for_others(secret_file.parent)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(base),
            "PYTHONDONTWRITEBYTECODE": "1",
            ROOT_SECRET_ENV: str(secret_file),
            ROOT_SECRET_ENV + "_TEXT": secret,
            ORDINARY_USER_ENV: "1",
        }
        argv = [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            f"--basetemp={base / 'pytest'}",
            str(Path(__file__).relative_to(REPO)),
            "-k",
            "local and not ordinary_user",
        ]
        run = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=400, check=False)
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-4000:]
        passed = int(re.search(r"(\d+) passed", output).group(1))  # type: ignore[union-attr]
        skipped = re.search(r"(\d+) skipped", output)
        # Only the aggregate memory limit may be missing for an ordinary user (no writable cgroup), and it says so.
        assert skipped is None or (int(skipped.group(1)) == 1 and "aggregate memory" in output), output[-4000:]
        assert passed >= 14, output[-4000:]
        assert _wait_until_gone(lambda: _processes_of({uid}), seconds=10.0) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _reachable_for_others(path: Path) -> None:
    from sandboxes._ownership import ensure_reachable

    ensure_reachable(path)
