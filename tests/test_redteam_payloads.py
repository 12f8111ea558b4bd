"""Payloads aimed at the host's side of a sandbox: what it walks, takes back, copies and stores afterwards.

Each test runs a candidate through the real backend, then checks what the host did with what it left:

- folders nested more than a thousand deep, made faster than the disk watch looks: the hand-back walk and the
  removal recursed and stopped at Python's recursion limit, leaving set-id files owned by the sandbox's
  uid and every later command in the directory failing with a `RecursionError`;
- thousands of sibling folders: the walk that lists a tree for ingestion held a descriptor per pending
  folder, exhausted the process's descriptors and silently skipped everything past that point;
- folder names of 255 characters a few dozen deep: fine inside the sandbox, but the copy's path is longer
  than the system allows, and the copy failed with a raw `OSError` instead of naming the folder;
- world-writable files and folders, handed back to the host's owner still writable by any local user;
- a folder locked with `chmod 0` (labgate as an ordinary user): the set-id strip walked around it;
- an output whose name is not UTF-8: the database refused the artifact's row and the intake failed.

The battery's fixtures check the host after each attack (canary, core pattern, no process of a sandbox uid left).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from api._settings import Settings
from runs import RunStore, TaskSpec, copy_untrusted_tree, remove_untrusted_tree, tree_steps, walk_untrusted
from sandboxes import SandboxError
from tests import test_sandbox_battery as battery
from tests.api_server import served_client
from tests.conftest import REPO
from tests.test_sandbox_battery import SMALL, Backend, Host

backend = battery.backend
host = battery.host

UNSAFE_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_IWOTH
UNWATCHED = SMALL.with_(disk_bytes=None, files=None)
"""No disk watch: the command finishes whatever it builds, so the host meets the whole tree afterwards."""


def _entries(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for step in tree_steps(fd):
            if step.kind == "entry":
                yield step.relative, step.info
    finally:
        os.close(fd)


def _not_given_back(root: Path, owner: int) -> list[str]:
    """Entries still owned by someone else than `owner`, or carrying set-id bits or others' write."""
    return [
        f"{relative} (uid {info.st_uid}, mode {oct(info.st_mode)})"
        for relative, info in _entries(root)
        if info.st_uid != owner or (not stat.S_ISLNK(info.st_mode) and info.st_mode & UNSAFE_BITS)
    ]


# -- deep nesting -------------------------------------------------------------------------------------

_DEEP = """
import os
fd = os.open('.', os.O_RDONLY)
for _ in range(1200):
    os.mkdir('d', dir_fd=fd)
    inner = os.open('d', os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = inner
os.close(os.open('s', os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
os.chmod('s', 0o6755, dir_fd=fd)
os.mkdir('w', dir_fd=fd)
os.chmod('w', 0o1777, dir_fd=fd)
print('built')
"""


def test_folders_nested_thousands_deep_are_taken_back_whole(backend: Backend, host: Host, tmp_path: Path) -> None:
    workdir = tmp_path / "exp"
    sandbox = backend.open(workdir)
    try:
        result = sandbox.exec(["python3", "-c", _DEEP], timeout=60, limits=UNWATCHED)
        assert "built" in result.stdout, result.stderr[-500:]
        # The directory is over the watch's depth now: the next command is refused by name, not by a traceback.
        with pytest.raises(SandboxError, match="nest deeper"):
            sandbox.exec(["true"], timeout=30)
        sandbox.close()
        owner = os.lstat(tmp_path).st_uid
        depth = max(relative.count("/") for relative, _ in _entries(workdir))
        assert depth > 1100  # past Python's recursion limit (1000)
        assert _not_given_back(workdir, owner) == []
        assert sum(1 for entry in walk_untrusted(workdir) if entry.kind == "file") == 1
    finally:
        sandbox.close()
        remove_untrusted_tree(workdir)  # pytest's own clean-up of old temporary folders recurses
    assert not workdir.exists()


# -- many siblings --------------------------------------------------------------------------------------

SIBLINGS = 1500


@pytest.fixture
def few_descriptors() -> Iterator[None]:
    """This process allowed 1024 open files, a service's usual limit, for the test's length."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_thousands_of_sibling_folders_neither_exhaust_descriptors_nor_hide_files(
    backend: Backend, host: Host, tmp_path: Path, few_descriptors: None
) -> None:
    workdir = tmp_path / "exp"
    with backend.open(workdir, limits=SMALL.with_(files=4 * SIBLINGS)) as sandbox:
        code = f"import os\nfor i in range({SIBLINGS}):\n    os.mkdir(f'{{i}}')\n    open(f'{{i}}/out', 'w').write('x')"
        assert sandbox.exec(["python3", "-c", code], timeout=60).success
    files = [entry.relative for entry in walk_untrusted(workdir) if entry.kind == "file"]
    assert len(files) == SIBLINGS
    assert copy_untrusted_tree(workdir, tmp_path / "copy") == []
    assert sum(1 for path in (tmp_path / "copy").glob("*/out")) == SIBLINGS


# -- names too long for the copy --------------------------------------------------------------------------

_LONG = """
import os
fd = os.open('.', os.O_RDONLY)
for level in range(20):
    name = 'n' * 250 + f'{level:03}'
    os.mkdir(name, dir_fd=fd)
    inner = os.open(name, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = inner
os.close(os.open('deep.txt', os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))
open('plain.txt', 'w').write('kept')
"""


def test_a_folder_too_long_for_the_copy_is_refused_by_name(backend: Backend, host: Host, tmp_path: Path) -> None:
    workdir = tmp_path / "exp"
    with backend.open(workdir) as sandbox:
        assert sandbox.exec(["python3", "-c", _LONG], timeout=60).success
    refused = copy_untrusted_tree(workdir, tmp_path / "copy")
    assert len(refused) == 1 and "longer than the system allows" in refused[0], refused
    assert (tmp_path / "copy" / "plain.txt").read_text() == "kept"


# -- modes handed back ---------------------------------------------------------------------------------------

_WIDE_OPEN = """
import os
for name, mode in (('suid', 0o6777), ('shared', 0o666)):
    open(name, 'w').write(name)
    os.chmod(name, mode)
for name, mode in (('drop', 0o1777), ('group', 0o2777)):
    os.mkdir(name)
    os.chmod(name, mode)
"""


def test_nothing_is_handed_back_writable_by_everyone(backend: Backend, host: Host, tmp_path: Path) -> None:
    """A world-writable folder among an experiment's outputs lets any local user plant or swap a file
    between the run and its judging; the hand-back leaves write access to the owner (and group)."""
    workdir = tmp_path / "exp"
    with backend.open(workdir) as sandbox:
        assert sandbox.exec(["python3", "-c", _WIDE_OPEN], timeout=60).success
    assert _not_given_back(workdir, os.lstat(tmp_path).st_uid) == []
    assert stat.S_IMODE(os.lstat(workdir / "shared").st_mode) & stat.S_IWUSR


_ORDINARY_USER_RUN = """
import json, os, stat, sys
from pathlib import Path
from sandboxes import LocalSandbox
workdir = Path(sys.argv[1])
script = "mkdir -p lock/in && echo x > lock/in/s && chmod 6755 lock/in/s && chmod 777 lock/in && chmod 0 lock"
try:
    LocalSandbox(workdir=workdir).exec(["sh", "-c", script], timeout=30)
except Exception as error:  # the watch names the unreadable folder a breach; the hand-back still runs
    print(type(error).__name__, error, file=sys.stderr)
found = {}
for relative in ("lock", "lock/in", "lock/in/s"):
    found[relative] = os.lstat(workdir / relative).st_mode if os.access(workdir / "lock", os.X_OK) else None
print(json.dumps(found))
"""


def test_a_locked_folder_hides_no_set_id_file_from_an_ordinary_user(tmp_path: Path, bubblewrap: None) -> None:
    """labgate as an ordinary user: the sandbox shares its uid, so a folder it locks (`chmod 0`) is closed to
    the host too; the strip must open it to its owner and clear what it holds, not walk around it."""
    if os.geteuid() != 0:
        pytest.skip("switching to an ordinary user needs root")
    uid = 1_500_000_000 + secrets.randbelow(1_000_000)
    base = Path(tempfile.mkdtemp(prefix="labgate-payloads-user-"))
    try:
        base.chmod(0o700)
        os.chown(base, uid, uid)
        battery._reachable_for_others(Path(sys.executable).resolve())
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        argv += [sys.executable, "-c", _ORDINARY_USER_RUN, str(base / "exp")]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base), "PYTHONDONTWRITEBYTECODE": "1"}
        run = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stderr[-3000:]
        modes = json.loads(run.stdout.strip().splitlines()[-1])
        assert None not in modes.values(), f"the locked folder was left closed to its owner: {modes}"
        assert {relative: mode & UNSAFE_BITS for relative, mode in modes.items()} == dict.fromkeys(modes, 0)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- names the database cannot hold ---------------------------------------------------------------------------


def test_an_output_named_in_bytes_that_are_not_utf8_is_stored_and_served(
    backend: Backend, host: Host, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    store = RunStore(home)
    run = store.create_run(TaskSpec(id="cfd/x", workload="cfd", title="payload", params={"case": "cavity"}))
    workdir = tmp_path / "exp"
    with backend.open(workdir) as sandbox:
        code = "open(b'out\\xff\\xfe.log', 'wb').write(b'written by the candidate')"
        assert sandbox.exec(["python3", "-c", code], timeout=60).success
    (entry,) = [entry for entry in walk_untrusted(workdir) if entry.kind == "file"]
    artifact = store.add_artifact(
        run.id, workdir / entry.relative, kind="log", name=f"k/{entry.relative}", within=workdir
    )
    assert artifact.name == "k/out\\xff\\xfe.log"
    settings = Settings(home=home, run_workers=0)
    with served_client(settings) as client:
        for path in (f"/artifacts/{artifact.sha256}", f"/artifacts/{artifact.sha256}?download=true"):
            response = client.get(path)
            assert response.status_code == 200 and response.content == b"written by the candidate"
        assert client.get(f"/ui/runs/{run.id}").status_code == 200
