"""labgate-launch, the one program root runs before bubblewrap: it must leave a command exactly as
unprivileged and as limited as the chain it replaces (shell, setpriv, prlimit), refuse anything it cannot
do before the command runs, and never be a binary someone other than root could have changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sandboxes import Limits, LocalSandbox
from sandboxes._base import Command
from sandboxes._launch import launcher, only_root_can_change

pytestmark = pytest.mark.usefixtures("bubblewrap")

needs_launcher = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("cc") is None, reason="labgate-launch is built and used by root only"
)

_STATUS_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")


@pytest.fixture(params=["launcher", "chain"])
def start_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs once through labgate-launch and once through the shell, setpriv and prlimit."""
    if request.param == "chain":
        monkeypatch.setenv("LABGATE_SANDBOX_LAUNCHER", "0")
    return str(request.param)


def _host_status(marker: str) -> dict[str, str]:
    """The host's /proc status fields of the `sleep` whose argument is `marker`, read while it runs."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in found:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() != "sleep":
                    continue
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            return dict(re.findall(r"^(\w+):[ \t]*(.*)$", text, re.MULTILINE))
        time.sleep(0.05)
    raise AssertionError(f"sleep with {marker} never started")


@needs_launcher
def test_the_launcher_is_what_root_starts_and_the_chain_when_it_is_switched_off(
    tmp_path: Path, start_mode: str
) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    argv, _, cgroup, fds = sandbox._start(Command(["true"], sandbox.limits, None, sandbox.workdir, 30))
    for fd in fds:
        os.close(fd)
    sandbox._finish(cgroup)
    sandbox.close()
    launched = Path(argv[0]).name.startswith("labgate-launch")
    assert launched == (start_mode == "launcher"), argv[:3]
    assert ("setpriv" in argv) == (start_mode == "chain")


@needs_launcher
def test_a_launched_command_holds_no_privilege_on_the_host(tmp_path: Path, start_mode: str) -> None:
    """Seen from the host: not root, no groups, no capability in any set, no_new_privs, in both modes."""
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    marker = f"30.{uuid.uuid4().int % 10**9:09d}"
    worker = sandbox.spawn(["sleep", marker])
    try:
        held = _host_status(marker)
    finally:
        worker.kill()
        sandbox.close()
    uids, gids = held["Uid"].split(), held["Gid"].split()
    assert len(set(uids)) == 1 and uids[0] != "0", held["Uid"]
    assert len(set(gids)) == 1 and gids[0] != "0", held["Gid"]
    assert held["Groups"] == ""
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(held[field], 16) == 0, f"{field} {held[field]}"
    assert held["NoNewPrivs"] == "1"


@needs_launcher
def test_a_launched_command_has_every_rlimit_of_its_limits(tmp_path: Path, start_mode: str) -> None:
    sandbox = LocalSandbox(workdir=tmp_path / "work")
    limits = Limits(memory_bytes=700 << 20, file_bytes=3 << 20, open_files=77, cpu_seconds=41)
    result = sandbox.exec(["cat", "/proc/self/limits"], limits=limits, timeout=30)
    sandbox.close()
    assert result.success, result.stderr
    rows = {
        name.strip(): soft.split()
        for name, soft in re.findall(r"^(Max [a-z ]+?)\s{2,}(\S+\s+\S+)", result.stdout, re.MULTILINE)
    }
    assert rows["Max cpu time"] == ["41", "41"]
    assert rows["Max address space"] == [str(700 << 20)] * 2
    assert rows["Max file size"] == [str(3 << 20)] * 2
    assert rows["Max open files"] == ["77", "77"]
    assert rows["Max core file size"] == ["0", "0"]


@needs_launcher
def test_the_launcher_refuses_before_the_program_runs(tmp_path: Path) -> None:
    binary = launcher()
    assert binary is not None
    marker = tmp_path / "ran"
    program = ["/bin/sh", "-c", f"touch {marker}"]
    refused = {
        "a cgroup it cannot join": ["--join=/nonexistent/tasks"],
        "root as the uid": ["--uid=0"],
        "a uid that is no number": ["--uid=12ab"],
        "an unknown rlimit": ["--rlimit=stack:1"],
        "an rlimit with no number": ["--rlimit=cpu:-1"],
        "an unknown option": ["--keep-caps"],
    }
    for why, options in refused.items():
        result = subprocess.run([str(binary), *options, "--", *program], capture_output=True, text=True, check=False)
        assert result.returncode == 126, why
        assert result.stderr.startswith("labgate-launch: "), (why, result.stderr)
        assert not marker.exists(), f"the program ran despite {why}"
    relative = subprocess.run([str(binary), "--", "sh", "-c", f"touch {marker}"], capture_output=True, check=False)
    assert relative.returncode == 126 and not marker.exists(), "a program looked up on PATH by root"
    fine = subprocess.run([str(binary), "--rlimit=nofile:64", "--", *program], capture_output=True, check=False)
    assert fine.returncode == 0 and marker.exists(), fine.stderr


def test_only_a_file_root_alone_can_change_is_trusted(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    binary = private / "tool"
    binary.write_text("")
    binary.chmod(0o755)
    if os.geteuid() != 0:
        assert not only_root_can_change(binary)
        return
    os.chmod(tmp_path, 0o700)
    assert only_root_can_change(binary)
    binary.chmod(0o775)
    assert not only_root_can_change(binary), "a group-writable binary"
    binary.chmod(0o755)
    private.chmod(0o777)
    assert not only_root_can_change(binary), "a world-writable folder without the sticky bit"
    private.chmod(0o1777)
    assert only_root_can_change(binary), "others cannot rename or remove root's file in a sticky folder"
    private.chmod(0o700)
    os.chown(binary, 1234, 1234)
    assert not only_root_can_change(binary), "a binary another uid owns"
    os.chown(binary, 0, 0)
    link = private / "link"
    link.symlink_to(binary)
    assert only_root_can_change(link), "a link is judged by what it names"
    assert not only_root_can_change(private / "missing")


@needs_launcher
def test_a_cache_others_can_write_to_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    monkeypatch.setattr("sandboxes._launch._built", {})
    binary = launcher()
    assert binary is not None
    assert shared not in binary.parents, f"built into a folder others can write to: {binary}"
    assert only_root_can_change(binary)
    assert subprocess.run([str(binary), "--", "/bin/true"], check=False).returncode == 0


@needs_launcher
def test_a_cached_launcher_someone_else_changed_is_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o755)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr("sandboxes._launch._built", {})
    binary = launcher()
    assert binary is not None and cache in binary.parents
    os.chown(binary, 4321, 4321)
    assert launcher() != binary, "a launcher another uid owns was still handed out"
    monkeypatch.setattr("sandboxes._launch._built", {})
    rebuilt = launcher()
    assert rebuilt is not None and rebuilt.stat().st_uid == 0, "the changed binary was not replaced"


@needs_launcher
def test_the_launcher_itself_leaves_no_privilege_before_bubblewrap_adds_its_own_drops(tmp_path: Path) -> None:
    """bubblewrap drops capabilities and sets no_new_privs again, which would hide a launcher that did not:
    so the launcher's own result is read without bubblewrap."""
    binary = launcher()
    assert binary is not None
    result = subprocess.run(
        [str(binary), "--uid=1234567", "--", "/bin/cat", "/proc/self/status"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    held = dict(re.findall(r"^(\w+):[ \t]*(.*)$", result.stdout, re.MULTILINE))
    assert held["Uid"].split() == ["1234567"] * 4 and held["Gid"].split() == ["1234567"] * 4
    assert held["Groups"] == ""
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(held[field], 16) == 0, f"{field} {held[field]}"
    assert held["NoNewPrivs"] == "1"
