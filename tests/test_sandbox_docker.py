"""The docker sandbox against hostile commands, on a real engine, in the `kernels` image (it has python3).

The same attacks as the local backend's tests, plus what container reuse adds: a candidate must not
reach another experiment through a shared warm container, and nothing it leaves (processes, /tmp
files, ownership tricks) may survive into the next experiment or onto the host.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from sandboxes import (
    GIB,
    MIB,
    DockerSandboxes,
    Limits,
    OutputLimitExceededError,
    ResourceLimitError,
    SandboxPathError,
    SandboxTimeoutError,
)
from tests.conftest import docker_image

pytestmark = pytest.mark.docker


def _our_containers() -> list[str]:
    client = docker.from_env()
    try:
        found = client.api.containers(all=True, filters={"label": f"org.labgate.pid={os.getpid()}"})
        return [item["Id"] for item in found if item.get("State") != "removing"]
    finally:
        client.close()


def _container_exists(container_id: str) -> bool:
    client = docker.from_env()
    try:
        client.containers.get(container_id)
        return True
    except docker.errors.NotFound:
        return False
    finally:
        client.close()


def _host_processes_of(uid: int) -> list[int]:
    """Living PIDs on the host whose real uid is `uid` (containers share the host's process table;
    a killed process waiting to be reaped is a zombie and runs nothing)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith(("Z", "X")):
            found.append(int(status.parent.name))
    return found


def _wait_until(predicate: object, seconds: float = 10) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[DockerSandboxes]:
    docker_image("kernels")
    sandboxes = DockerSandboxes("kernels", shared_root=tmp_path / "experiments")
    yield sandboxes
    sandboxes.close()
    assert _wait_until(lambda: _our_containers() == []), "containers outlived the pool"


def test_runs_hardened_as_an_unprivileged_user(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "a")
    probe = "pwd; id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; echo hi > out.txt; touch /usr/x 2>&1"
    result = sandbox.exec(["sh", "-c", probe], timeout=60)
    lines = result.stdout.splitlines()
    assert lines[0] == str(sandbox.workdir)
    assert lines[1] != "0", "commands must not run as root"
    assert "CapEff:\t0000000000000000" in result.stdout
    assert "NoNewPrivs:\t1" in result.stdout
    assert "Read-only file system" in result.stdout
    assert (sandbox.workdir / "out.txt").read_text() == "hi\n"
    assert sandbox.container_id is not None
    attrs = docker.from_env().containers.get(sandbox.container_id).attrs
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
    assert host["Memory"] == host["MemorySwap"] > 0 and host["PidsLimit"] > 0 and host["NanoCpus"] > 0
    assert host["Init"] is True and "no-new-privileges" in host["SecurityOpt"]
    # No engine log: a flooding worker's json-file log grew 329 MiB in 3 s on the host's disk, uncapped.
    assert host["LogConfig"]["Type"] == "none"
    writable = [m for m in attrs["Mounts"] if m["RW"]]
    assert [m["Destination"] for m in writable] == [str(tmp_path / "experiments")]
    assert writable[0]["Source"] != str(tmp_path / "experiments") and writable[0]["Propagation"] == "rslave"
    sandbox.close()
    assert sandbox.workdir.stat().st_uid == os.getuid(), "the directory went back to its owner"
    assert (sandbox.workdir / "out.txt").stat().st_uid == os.getuid()


def test_timeout_kills_and_removes_the_container(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "slow")
    sandbox.exec(["true"], timeout=60)
    first = sandbox.container_id
    assert first is not None
    sleepers = "python3 -c 'import time; time.sleep(300)' & python3 -c 'import time; time.sleep(300)' & wait"
    start = time.monotonic()
    with pytest.raises(SandboxTimeoutError, match="killed and removed"):
        sandbox.exec(["sh", "-c", sleepers], timeout=2)
    assert time.monotonic() - start < 20
    assert _wait_until(lambda: not _container_exists(first))
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == [])
    again = sandbox.exec(["echo", "fresh"], timeout=60)
    assert again.stdout == "fresh\n" and sandbox.container_id != first
    sandbox.close()


def test_a_container_killed_from_outside_is_replaced(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "killed")
    sandbox.exec(["true"], timeout=60)
    first = sandbox.container_id
    assert first is not None
    docker.from_env().containers.get(first).kill()
    assert _wait_until(lambda: not _container_exists(first))
    assert sandbox.exec(["echo", "still here"], timeout=60).stdout == "still here\n"
    assert sandbox.container_id not in (None, first)
    sandbox.close()


def test_memory_is_capped_per_process_and_per_container(tmp_path: Path) -> None:
    docker_image("kernels")
    sandboxes = DockerSandboxes("kernels", limits=Limits(memory_bytes=512 * MIB))
    try:
        sandbox = sandboxes(tmp_path / "w")
        hog = "x = bytearray(3 * 1024**3); print('allocated')"
        result = sandbox.exec(["python3", "-c", hog], timeout=60, limits=Limits(memory_bytes=1 * GIB))
        assert "allocated" not in result.stdout and "MemoryError" in result.stderr
        # No address-space limit on the process: the cgroup (memory = memory+swap) stops it instead.
        toucher = "x = b'\\x01' * (1024**3); print('allocated')"
        with pytest.raises(ResourceLimitError) as caught:
            sandbox.exec(["python3", "-c", toucher], timeout=60, limits=Limits(memory_bytes=None))
        assert caught.value.limit == "memory_bytes"
        assert caught.value.partial is not None and "allocated" not in caught.value.partial.stdout
        sandbox.close()
    finally:
        sandboxes.close()


def test_memory_is_capped_across_processes(tmp_path: Path) -> None:
    """Four processes of 200 MiB each, every one under its own address-space limit, exceed the sandbox's 512 MiB."""
    docker_image("kernels")
    sandboxes = DockerSandboxes("kernels", limits=Limits(memory_bytes=512 * MIB))
    try:
        sandbox = sandboxes(tmp_path / "w")
        hog = (
            "import os, time\n"
            "for _ in range(4):\n"
            "    if os.fork() == 0:\n"
            "        x = b'\\x01' * (200 * 1024**2); time.sleep(30); os._exit(0)\n"
            "for _ in range(4):\n"
            "    os.wait()\n"
            "print('all four held', flush=True)\n"
        )
        start = time.monotonic()
        with pytest.raises(ResourceLimitError) as caught:
            sandbox.exec(["python3", "-c", hog], timeout=60)
        assert caught.value.limit == "memory_bytes"
        assert caught.value.partial is not None and "all four held" not in caught.value.partial.stdout
        assert time.monotonic() - start < 40
        assert _wait_until(lambda: _host_processes_of(sandbox.uid) == [])
        assert sandbox.exec(["echo", "next"], timeout=60).stdout == "next\n", "the sandbox serves the next command"
        sandbox.close()
    finally:
        sandboxes.close()


def test_fork_bomb_is_stopped_and_named(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "bomb")
    bomb = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 10000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n, flush=True)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["python3", "-c", bomb], timeout=60, limits=Limits(processes=40))
    assert caught.value.limit == "processes"
    assert time.monotonic() - start < 20, "the bomb was stopped at its limit, not at the wall clock"
    assert caught.value.partial is not None
    forks = caught.value.partial.stdout.split()
    assert not forks or int(forks[0]) < 40, f"{forks[0]} processes were created under a limit of 40"
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == []), "the bomb's children outlived the command"
    assert sandbox.exec(["echo", "next"], timeout=60).stdout == "next\n"
    sandbox.close()


def test_processes_under_the_limit_are_not_a_breach(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "fine")
    children = "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait; echo done"
    assert sandbox.exec(["sh", "-c", children], timeout=60, limits=Limits(processes=40)).stdout == "done\n"
    sandbox.close()


def test_tmp_is_sized_from_the_limits(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "tmp")
    limits = Limits(tmp_bytes=32 * MIB)
    size = sandbox.exec(["sh", "-c", "df -k /tmp | tail -1"], timeout=60, limits=limits).stdout.split()[1]
    assert int(size) == 32 * 1024
    fill = "dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>&1; echo exit=$?"
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["sh", "-c", fill], timeout=60, limits=limits)
    assert caught.value.limit == "tmp_bytes"
    assert caught.value.partial is not None
    sandbox.close()


def test_disk_fill_is_stopped_and_named(pool: DockerSandboxes, tmp_path: Path) -> None:
    workdir = tmp_path / "experiments" / "disk"
    sandbox = pool(workdir)
    limits = Limits(disk_bytes=64 * MIB, file_bytes=1 * GIB)
    # Slow enough that the watch, not the end of the command, stops it.
    fill = "i=0; while [ $i -lt 400 ]; do dd if=/dev/zero of=f$i bs=1M count=4 2>/dev/null; i=$((i+1)); done; echo all"
    start = time.monotonic()
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["sh", "-c", fill], timeout=120, limits=limits)
    assert caught.value.limit == "disk_bytes"
    assert caught.value.partial is not None and "all" not in caught.value.partial.stdout
    assert time.monotonic() - start < 60
    used = sum(p.stat().st_blocks * 512 for p in workdir.iterdir())
    assert used < 1 * GIB, f"{used} bytes were written under a 64 MiB limit"
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == [])
    sandbox.close()


def test_a_disk_fill_faster_than_a_poll_is_still_named(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "burst")
    limits = Limits(disk_bytes=8 * MIB)
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["sh", "-c", "head -c 20000000 /dev/zero > burst"], timeout=60, limits=limits)
    assert caught.value.limit == "disk_bytes"
    sandbox.close()


def test_file_flood_is_stopped_and_named(pool: DockerSandboxes, tmp_path: Path) -> None:
    workdir = tmp_path / "experiments" / "files"
    sandbox = pool(workdir)
    flood = "import os\nfor i in range(200000):\n    open(f'f{i}', 'w').close()\nprint('all')\n"
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["python3", "-c", flood], timeout=120, limits=Limits(files=2000))
    assert caught.value.limit == "files"
    assert caught.value.partial is not None and "all" not in caught.value.partial.stdout
    assert len(os.listdir(workdir)) < 200000
    sandbox.close()


def test_network_is_unreachable(pool: DockerSandboxes, tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    # 127.0.0.1 is the container's own loopback; 172.17.0.1 is this host's docker0 bridge address.
    probe = (
        "import socket\n"
        "print(open('/proc/net/dev').read().count(':'))\n"
        f"for host in ('127.0.0.1', '172.17.0.1'):\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        f"    print(host, s.connect_ex((host, {port})))\n"
    )
    sandbox = pool(tmp_path / "experiments" / "net")
    result = sandbox.exec(["python3", "-c", probe], timeout=60)
    lines = result.stdout.split("\n")
    assert lines[0] == "1", "only the loopback interface may exist"
    for line in lines[1:3]:
        assert line.split()[1] != "0", line
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    sandbox.close()


def test_writes_outside_the_directory_fail(pool: DockerSandboxes, tmp_path: Path) -> None:
    root = tmp_path / "experiments"
    other = pool(root / "other")
    other.write_file("result.txt", "trusted")
    other.exec(["true"], timeout=60)
    sandbox = pool(root / "attacker")
    targets = [
        str(root / "sibling.txt"),
        str(root / "other" / "result.txt"),
        str(tmp_path / "outside.txt"),
        "/usr/labgate-x",
        "/etc/labgate-x",
    ]
    script = "; ".join(f"(echo x >> {t}) 2>/dev/null && echo wrote {t}" for t in targets)
    script += f"; ls {root / 'other'} 2>/dev/null && echo listed; echo done"
    result = sandbox.exec(["sh", "-c", script], timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "done"
    assert "wrote" not in result.stdout and "listed" not in result.stdout, result.stdout
    assert (root / "other" / "result.txt").read_text() == "trusted"
    assert not (root / "sibling.txt").exists() and not (tmp_path / "outside.txt").exists()
    sandbox.close()
    other.close()


def test_secrets_never_reach_the_container(
    pool: DockerSandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret")
    sandbox = pool(tmp_path / "experiments" / "env")
    result = sandbox.exec(
        ["env"], timeout=60, env={"SOLVER_OPTION": "kept", "MY_SERVICE_TOKEN": "dropped", "AWS_SECRET_ACCESS_KEY": "x"}
    )
    assert "SOLVER_OPTION=kept" in result.stdout
    for leaked in ("sk-host-secret", "dropped", "OPENAI_API_KEY", "AWS_SECRET"):
        assert leaked not in result.stdout
    sandbox.close()


def test_output_flood_is_cut_and_the_container_removed(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "flood")
    sandbox.exec(["true"], timeout=60)
    first = sandbox.container_id
    assert first is not None
    with pytest.raises(OutputLimitExceededError) as caught:
        sandbox.exec(["sh", "-c", "yes labgate"], timeout=60, limits=Limits(output_bytes=10_000))
    assert caught.value.partial is not None and len(caught.value.partial.stdout) <= 10_000
    assert _wait_until(lambda: not _container_exists(first))
    sandbox.close()


def test_stdin_reaches_the_command(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "stdin")
    data = b"line\n" * 200_000
    result = sandbox.exec(["python3", "-c", "import sys; print(len(sys.stdin.buffer.read()))"], timeout=60, input=data)
    assert result.stdout.strip() == str(len(data))
    assert sandbox.exec(["sh", "-c", "exit 3"], timeout=60).returncode == 3
    sandbox.close()


def test_a_warm_container_is_reset_between_experiments(pool: DockerSandboxes, tmp_path: Path) -> None:
    root = tmp_path / "experiments"
    first = pool(root / "first")
    first.exec(["true"], timeout=60)
    container = first.container_id
    # A daemon that escapes its command with setsid, and a file in the container's /tmp.
    leave = "setsid sh -c 'sleep 300' </dev/null >/dev/null 2>&1 & echo secret > /tmp/left-behind; echo ok"
    assert first.exec(["sh", "-c", leave], timeout=60).stdout == "ok\n"
    assert _wait_until(lambda: _host_processes_of(first.uid) == []), "the daemon outlived its command"
    first.close()
    second = pool(root / "second")
    result = second.exec(["sh", "-c", "cat /tmp/left-behind 2>&1; ls -a /tmp"], timeout=60)
    assert second.container_id == container, "the warm container was not reused"
    assert "secret" not in result.stdout and "No such file" in result.stdout
    assert second.uid != first.uid
    second.close()
    assert pool.stats()["reused"] >= 1


def _stage_mounts() -> list[str]:
    """Mount points of this process's stages (the per-experiment mounts of shared containers)."""
    text = Path("/proc/self/mountinfo").read_text()
    return [line.split()[4] for line in text.splitlines() if f"labgate-stage-{os.getpid()}-" in line.split()[4]]


def test_a_warm_container_shows_only_the_experiment_it_serves(pool: DockerSandboxes, tmp_path: Path) -> None:
    root = tmp_path / "experiments"
    first = pool(root / "first")
    first.write_file("result.txt", "first's result")
    first.exec(["true"], timeout=60)
    container = first.container_id
    first.close()
    # A directory the harness is preparing (inputs of a held-out configuration), not yet lent to anyone.
    prepared = root / "held-out"
    prepared.mkdir()
    (prepared / "inputs.txt").write_text("held-out inputs")
    prepared.chmod(0o755)
    (prepared / "inputs.txt").chmod(0o644)
    second = pool(root / "second")
    probe = (
        f"ls -a {root} 2>&1; echo --; cat {root}/first/result.txt {root}/held-out/inputs.txt 2>&1; "
        f"ls {root}/first {root}/held-out 2>&1; echo end"
    )
    result = second.exec(["sh", "-c", probe], timeout=60)
    assert second.container_id == container, "the warm container was not reused"
    listing = result.stdout.split("--")[0]
    assert "first" not in listing and "held-out" not in listing, listing
    assert "first's result" not in result.stdout and "held-out inputs" not in result.stdout, result.stdout
    assert result.stdout.count("No such file") == 4, result.stdout
    # A neighbour running at the same time gets a container of its own and sees only itself as well.
    third = pool(root / "third")
    third.write_file("mine.txt", "third")
    seen = third.exec(["sh", "-c", f"ls -a {root} 2>&1; echo --; ls {root}/second 2>&1"], timeout=60)
    assert third.container_id != second.container_id
    listing, direct = seen.stdout.split("--\n")
    assert "second" not in listing.replace(str(root), "") and "No such file" in direct, seen.stdout
    assert len(_stage_mounts()) >= 2
    second.close()
    third.close()
    assert (root / "first" / "result.txt").read_text() == "first's result"
    assert _wait_until(lambda: len(_stage_mounts()) == 1), "only the stage itself stays mounted between experiments"


def test_closing_the_pool_unmounts_its_stage(tmp_path: Path) -> None:
    docker_image("kernels")
    sandboxes = DockerSandboxes("kernels", shared_root=tmp_path / "experiments")
    sandbox = sandboxes(tmp_path / "experiments" / "a")
    sandbox.write_file("kept.txt", "kept")
    sandbox.exec(["true"], timeout=60)
    assert _stage_mounts(), "a shared container receives its experiment by a staged mount"
    sandboxes.close()
    assert _stage_mounts() == []
    assert not list(Path(tempfile.gettempdir()).glob(f"labgate-stage-{os.getpid()}-*"))
    assert (tmp_path / "experiments" / "a" / "kept.txt").read_text() == "kept"


def test_a_command_that_kills_its_wrapper_leaves_nothing_running(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "escape")
    # The wrapper (the command's parent, same uid) would kill the daemon when the command ends: kill it first.
    escape = "setsid sh -c 'sleep 300' </dev/null >/dev/null 2>&1 & kill -9 $PPID; echo gone"
    sandbox.exec(["sh", "-c", escape], timeout=60)
    assert _host_processes_of(sandbox.uid) == [], "a process outlived its command"
    sandbox.close()


def test_a_container_that_cannot_be_shown_clean_is_discarded(pool: DockerSandboxes, tmp_path: Path) -> None:
    root = tmp_path / "experiments"
    first = pool(root / "first")
    # A System V shared-memory segment outlives every process; the reset cannot remove it as the uid.
    shm = "import ctypes; libc = ctypes.CDLL(None); print(libc.shmget(1234, 4096, 0o1600))"
    assert int(first.exec(["python3", "-c", shm], timeout=60).stdout) >= 0
    container = first.container_id
    assert container is not None
    first.close()
    second = pool(root / "second")
    second.exec(["true"], timeout=60)
    assert second.container_id != container
    assert pool.stats()["discarded"] == 1
    assert _wait_until(lambda: not _container_exists(container))
    second.close()


def test_ownership_tricks_do_not_reach_the_host(pool: DockerSandboxes, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("host file")
    victim.chmod(0o600)
    workdir = tmp_path / "experiments" / "tricks"
    sandbox = pool(workdir)
    script = f"ln -s {victim} link; cp /bin/true suid; chmod u+s,g+s suid; ln {victim} hard 2>&1; echo done"
    result = sandbox.exec(["sh", "-c", script], timeout=60)
    assert result.stdout.strip().endswith("done")
    sandbox.close()
    assert victim.stat().st_uid == os.getuid() and stat.S_IMODE(victim.stat().st_mode) == 0o600
    suid = (workdir / "suid").stat()
    assert suid.st_uid == os.getuid() and not suid.st_mode & (stat.S_ISUID | stat.S_ISGID)
    with pytest.raises(SandboxPathError):
        sandbox.read_file("link")
    # A later sandbox on the same directory (a gate's re-check) hands the link, now the owner's,
    # to its own uid: the walk must change the link itself, never the host file it points to.
    again = pool(workdir)
    tamper = again.exec(["sh", "-c", "echo tampered >> link 2>/dev/null && echo wrote; echo end"], timeout=60)
    assert "wrote" not in tamper.stdout
    assert victim.read_text() == "host file" and victim.stat().st_uid == os.getuid()
    again.close()


def test_spawned_worker_serves_requests_and_dies_with_kill(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "worker")
    echo = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line.upper()); sys.stdout.flush()\n"
    worker = sandbox.spawn(["python3", "-c", echo])
    for word in (b"first\n", b"second\n"):
        worker.stdin.write(word)
        worker.stdin.flush()
        assert worker.stdout.readline() == word.upper()
    assert worker.poll() is None
    assert sandbox.exec(["echo", "meanwhile"], timeout=60).stdout == "meanwhile\n"
    worker.kill()
    worker.kill()
    assert worker.poll() is not None
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == [])
    sandbox.close()


def test_halt_stops_a_worker_at_once_and_pause_names_processes_it_started(
    pool: DockerSandboxes, tmp_path: Path
) -> None:
    """Placed kernel runs stop the worker inside the host's clock (`halt`, here signals from the host, not the
    engine's pause, an HTTP request milliseconds long), and a process started in a run is named."""
    from tests.test_redteam_kernel_placed import SPINNING, check_halt_and_newcomers

    folder = tmp_path / "experiments" / "spinning"
    sandbox = pool(folder)
    worker = sandbox.spawn(["python3", "-c", SPINNING])
    try:
        check_halt_and_newcomers(worker, folder)
    finally:
        worker.kill()
        sandbox.close()


class _FreezerFailing:
    """The engine's API with its freezer failing as on a loaded host: the first `fail` pause or unpause calls
    raise, each after doing its work when `lost_answer` (the engine acted, its answer did not arrive)."""

    def __init__(self, api: object, fail: int, lost_answer: bool = False) -> None:
        self._api = api
        self.fail = fail
        self.lost_answer = lost_answer
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._api, name)

    def _flaky(self, name: str, container: str) -> None:
        self.calls += 1
        if self.fail > 0:
            self.fail -= 1
            if self.lost_answer:
                getattr(self._api, name)(container)
            raise docker.errors.APIError(f"{name}: unable to freeze")
        getattr(self._api, name)(container)

    def pause(self, container: str) -> None:
        self._flaky("pause", container)

    def unpause(self, container: str) -> None:
        self._flaky("unpause", container)


def _container_paused(container_id: str) -> bool:
    client = docker.from_env()
    try:
        return bool(client.api.inspect_container(container_id)["State"]["Paused"])
    finally:
        client.close()


@pytest.mark.parametrize("lost_answer", [False, True])
def test_pause_and_resume_hold_when_the_engine_s_freezer_fails_once(
    pool: DockerSandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lost_answer: bool
) -> None:
    """A pause the engine failed once (seen in a parallel run: a placed kernel run was then refused for a
    worker that "could not be stopped") is retried, or confirmed where the engine did it anyway."""
    from tests.test_redteam_kernel_placed import SPINNING, wait_for_change

    folder = tmp_path / "experiments" / "frozen"
    sandbox = pool(folder)
    worker = sandbox.spawn(["python3", "-c", SPINNING])
    try:
        wait_for_change(folder / "count")
        flaky = _FreezerFailing(worker._client.api, fail=1, lost_answer=lost_answer)  # type: ignore[attr-defined]
        monkeypatch.setattr(worker._client, "api", flaky)  # type: ignore[attr-defined]
        assert worker.pause(), worker.stderr_tail()
        assert _container_paused(worker.container_id)  # type: ignore[attr-defined]
        flaky.fail = 1
        worker.resume()
        assert not _container_paused(worker.container_id)  # type: ignore[attr-defined]
        assert worker.poll() is None, worker.stderr_tail()
        held = wait_for_change(folder / "count")
        wait_for_change(folder / "count", held)  # it runs again
    finally:
        worker.kill()
        sandbox.close()


def test_a_worker_the_engine_cannot_unpause_is_ended_with_the_reason(
    pool: DockerSandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left frozen, the worker would hang its next request until the time limit; it is ended at once."""
    from tests.test_redteam_kernel_placed import SPINNING, wait_for_change

    folder = tmp_path / "experiments" / "stuck"
    sandbox = pool(folder)
    worker = sandbox.spawn(["python3", "-c", SPINNING])
    try:
        wait_for_change(folder / "count")
        assert worker.pause()
        flaky = _FreezerFailing(worker._client.api, fail=100)  # type: ignore[attr-defined]
        monkeypatch.setattr(worker._client, "api", flaky)  # type: ignore[attr-defined]
        worker.resume()
        assert flaky.calls >= 2  # retried before giving up
        assert worker.poll() is not None
        assert "could not unpause" in worker.stderr_tail()
        container = worker.container_id  # type: ignore[attr-defined]
        assert _wait_until(lambda: not _container_exists(container))
    finally:
        worker.kill()
        sandbox.close()


class _EndedContainer(_FreezerFailing):
    """The engine failing unpause for a container it reports as no longer running (a worker that just ended)."""

    def inspect_container(self, container: str) -> dict[str, object]:
        found = dict(self._api.inspect_container(container))  # type: ignore[attr-defined]
        return {**found, "State": {**found["State"], "Running": False, "Paused": False}}


def test_an_unpause_failing_for_a_container_that_ended_is_not_called_a_stuck_freezer(
    pool: DockerSandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's end is its wait thread's to record (with its own exit code); resume neither kills it nor
    writes "could not unpause" into the stderr a user reads to learn why it died."""
    from tests.test_redteam_kernel_placed import SPINNING, wait_for_change

    folder = tmp_path / "experiments" / "ended"
    sandbox = pool(folder)
    worker = sandbox.spawn(["python3", "-c", SPINNING])
    try:
        wait_for_change(folder / "count")
        ended = _EndedContainer(worker._client.api, fail=100)  # type: ignore[attr-defined]
        monkeypatch.setattr(worker._client, "api", ended)  # type: ignore[attr-defined]
        worker.resume()
        assert ended.calls == 1, "a container that is not running is not asked again"
        assert "could not unpause" not in worker.stderr_tail()
        assert worker.poll() is None
    finally:
        worker.kill()
        sandbox.close()


UNFILTERED = """
import os
def status(pid):
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if ":" in line)
    return int(fields["Uid"].split()[0]), int(fields.get("Seccomp_filters", "0").strip() or 0), fields["Name"].strip()
uid, mine, _ = status("self")
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        owner, filters, name = status(pid)
    except (OSError, KeyError):
        continue
    if owner == uid and filters < mine:
        print("unfiltered", pid, name, filters, mine)
print("checked", mine)
"""


def test_no_process_of_a_workers_uid_runs_outside_its_filter(pool: DockerSandboxes, tmp_path: Path) -> None:
    """Got through before: a spawned worker's container ran the engine's init as the sandbox uid, started before
    labgate's filter, so the worker could trace it (or write its memory through /proc) into making the calls
    the filter refuses (AF_VSOCK sockets, io_uring). Every process of the uid, PID 1 included, is filtered."""
    sandbox = pool(tmp_path / "experiments" / "filtered")
    worker = sandbox.spawn(["python3", "-c", UNFILTERED])
    output = worker.stdout.read().decode()
    assert _wait_until(lambda: worker.poll() is not None)
    assert output.startswith("checked ") and int(output.split()[1]) >= 1, output + worker.stderr_tail()
    assert worker.poll() == 0, worker.stderr_tail()
    warm = sandbox.exec(["python3", "-c", UNFILTERED], timeout=60)  # the warm container's init is another uid's
    assert warm.stdout.startswith("checked "), warm.stdout + warm.stderr
    worker.kill()
    sandbox.close()


def test_a_worker_that_ends_on_its_own_reports_its_exit_code(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "short")
    worker = sandbox.spawn(["sh", "-c", "read line; echo got $line; echo bye >&2; exit 7"])
    worker.stdin.write(b"x\n")
    worker.stdin.flush()
    assert worker.stdout.readline() == b"got x\n"
    assert _wait_until(lambda: worker.poll() is not None)
    assert worker.poll() == 7 and "bye" in worker.stderr_tail()
    worker.kill()
    sandbox.close()


def test_a_worker_that_fills_its_directory_is_killed_and_says_why(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "filler")
    fill = "i=0; while :; do head -c 1048576 /dev/zero > f$i; i=$((i+1)); sleep 0.01; done"
    worker = sandbox.spawn(["sh", "-c", fill], limits=Limits(disk_bytes=16 * MIB))
    assert _wait_until(lambda: worker.poll() is not None, seconds=60), "the worker kept filling its directory"
    assert getattr(worker, "limit", None) == "disk_bytes"
    assert "disk_bytes" in worker.stderr_tail()
    worker.kill()
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == [])
    sandbox.close()


def test_without_staged_mounts_each_experiment_gets_its_own_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host that refuses mounts: no warm container is shared, so no experiment ever sees another's directory."""
    from sandboxes._docker_stage import MountStage, StageUnavailableError

    def refuse(cls: type, parent: Path | None = None) -> None:
        raise StageUnavailableError("mounts refused here")

    monkeypatch.setattr(MountStage, "create", classmethod(refuse))
    docker_image("kernels")
    root = tmp_path / "experiments"
    sandboxes = DockerSandboxes("kernels", shared_root=root)
    try:
        assert sandboxes.describe()["reuse"] == "one container per experiment"
        first = sandboxes(root / "first")
        first.write_file("result.txt", "first's result")
        first.exec(["true"], timeout=60)
        container = first.container_id
        first.close()
        second = sandboxes(root / "second")
        probe = f"cat {root}/first/result.txt 2>&1; echo --; ls -a {root} 2>&1"
        read, listing = second.exec(["sh", "-c", probe], timeout=60).stdout.split("--\n")
        assert second.container_id != container
        assert "No such file" in read and sorted(listing.split()) == [".", "..", "second"], (read, listing)
        assert sandboxes.stats()["reused"] == 0
        second.close()
    finally:
        sandboxes.close()


def test_a_directory_already_over_its_limit_is_named_not_run_around(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "full")
    for i in range(30):
        sandbox.write_file(f"input{i}.txt", "x")
    with pytest.raises(ResourceLimitError) as caught:
        sandbox.exec(["true"], timeout=60, limits=Limits(files=10))
    assert caught.value.limit == "files"
    assert sandbox.exec(["echo", "fits"], timeout=60, limits=Limits(files=100)).stdout == "fits\n"
    sandbox.close()


def _a_dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_stage_left_by_a_dead_run_is_unmounted_and_its_experiment_kept(tmp_path: Path) -> None:
    from sandboxes._docker_stage import MountStage, prune_stale_stages

    if os.geteuid() != 0:
        pytest.skip("staged mounts need root")
    experiment = tmp_path / "experiment"
    experiment.mkdir()
    (experiment / "result.txt").write_text("kept")
    stage = MountStage.create(tmp_path)
    point = stage.attach(stage.slot("c1"), Path("run/experiment"), experiment)
    assert (point / "result.txt").read_text() == "kept"
    # What a run killed mid-experiment leaves: its stage with an experiment still mounted in a slot.
    stale = tmp_path / f"labgate-stage-{_a_dead_pid()}-x"
    (stale / "slot").mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.txt").write_text("other data")
    subprocess.run(["mount", "--bind", str(other), str(stale / "slot")], check=True)
    assert prune_stale_stages(tmp_path) == 1, "only the dead run's stage goes"
    assert not stale.exists()
    assert (other / "data.txt").read_text() == "other data", "pruning a stage never deletes through its mounts"
    assert (point / "result.txt").read_text() == "kept", "a living run's stage is left alone"
    stage.close()
    assert not stage.root.exists()
    assert (experiment / "result.txt").read_text() == "kept"


def test_a_sequence_of_experiments_alternates_two_warm_containers(pool: DockerSandboxes, tmp_path: Path) -> None:
    """After the first reuse a spare is started in the background, so no experiment waits for a reset;
    whichever container an experiment gets, it sees only its own directory."""
    root = tmp_path / "experiments"
    containers = []
    for index in range(6):
        sandbox = pool(root / f"exp-{index}")
        sandbox.write_file("result.txt", f"result {index}\n")
        probe = " ".join(f"cat {root}/exp-{other}/result.txt 2>/dev/null;" for other in range(6)) + " echo end"
        seen = sandbox.exec(["sh", "-c", probe], timeout=60).stdout.split()
        assert seen == ["result", str(index), "end"], seen
        containers.append(sandbox.container_id)
        sandbox.close()
    stats = pool.stats()
    assert stats["started"] <= 2 and stats["reused"] >= 4, stats
    assert len(set(containers)) <= 2
