"""The docker sandbox against hostile commands, on a real engine, in the `kernels` image (it has python3).

The same attacks as the local backend's tests, plus what container reuse adds: a candidate must not
reach another experiment through a shared warm container, and nothing it leaves (processes, /tmp
files, ownership tricks) may survive into the next experiment or onto the host.
"""

from __future__ import annotations

import os
import socket
import stat
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
    attrs = docker.from_env().containers.get(sandbox.container_id).attrs
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"]
    assert host["Memory"] == host["MemorySwap"] > 0 and host["PidsLimit"] > 0 and host["NanoCpus"] > 0
    assert host["Init"] is True and "no-new-privileges" in host["SecurityOpt"]
    writable = [m["Destination"] for m in attrs["Mounts"] if m["RW"]]
    assert writable == [str(tmp_path / "experiments")]
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
        result = sandbox.exec(["python3", "-c", toucher], timeout=60, limits=Limits(memory_bytes=None))
        assert "allocated" not in result.stdout
        assert result.returncode == 137, result
        sandbox.close()
    finally:
        sandboxes.close()


def test_fork_bomb_is_contained_and_leaves_nothing(pool: DockerSandboxes, tmp_path: Path) -> None:
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
        "os._exit(0)\n"
    )
    result = sandbox.exec(["python3", "-c", bomb], timeout=60, limits=Limits(processes=40))
    forks = int(result.stdout.split()[0])
    assert forks < 40, f"{forks} processes were created under a limit of 40"
    assert _wait_until(lambda: _host_processes_of(sandbox.uid) == []), "the bomb's children outlived the command"
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
