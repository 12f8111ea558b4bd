"""What a hostile candidate in the local sandbox can learn about the host, and reach of its neighbours.

The battery (`test_sandbox_battery.py`) checks that nothing outside the directory can be written and that
root-only files stay unread. These attacks read what any uid may read:

- the host's /etc: world-readable files other services and users leave there (API keys in
  /etc/environment, the machine id, /etc/docker, the host's users in /etc/passwd, its name);
- the host's /sys: every cgroup of the host with its process list, the network interfaces and their
  hardware addresses, the machine's DMI identity;
- the host's name through uname;
- descriptors labgate holds open and inheritable (a store database, a pipe, a socket);
- another sandbox running at the same time: its processes (to signal or trace), its /dev/shm, its System V
  IPC and its abstract unix sockets; and labgate's own process.

Honest work keeps what it needs: the CPU topology PoCL reads, names that resolve for Open MPI.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandboxes._local import ETC_ALLOWED, SANDBOX_HOSTNAME, SYNTHETIC_ETC, LocalSandbox
from tests.sandbox_probes import inherited_descriptors, neighbour_report

pytestmark = pytest.mark.usefixtures("bubblewrap")

# Lists what the sandbox sees of /etc and /sys, and reads the files an attacker would try first.
_SURVEY = r"""
import json, os, socket
def read(path):
    try:
        with open(path, errors="replace") as handle:
            return handle.read(65536)
    except OSError as error:
        return f"refused: {error.strerror}"
seen = {"etc": sorted(os.listdir("/etc")), "uname": os.uname().nodename, "gethostname": socket.gethostname()}
seen["files"] = {p: read(p) for p in ("/etc/environment", "/etc/machine-id", "/etc/hostname", "/etc/passwd",
                                      "/etc/group", "/etc/hosts", "/etc/docker/daemon.json")}
found = []
for root, dirs, files in os.walk("/sys"):
    found += [os.path.join(root, name) for name in dirs + files]
    if len(found) > 200000:
        break
seen["sys"] = found
print(json.dumps(seen))
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LocalSandbox]:
    made = LocalSandbox(workdir=tmp_path / "work")
    yield made
    made.close()


@pytest.fixture
def planted_etc_secret() -> Iterator[str]:
    """A world-readable file in the host's /etc holding a secret, as a service's config or an admin's key would."""
    if os.geteuid() != 0:
        pytest.skip("planting a file in the host's /etc needs root")
    secret = f"labgate-etc-secret-{secrets.token_hex(8)}"
    path = Path("/etc") / f"labgate-test-{uuid.uuid4().hex}.conf"
    path.write_text(f"OPENAI_API_KEY={secret}\n")
    path.chmod(0o644)
    try:
        yield secret
    finally:
        path.unlink()


def _survey(sandbox: LocalSandbox) -> dict[str, object]:
    result = sandbox.exec(["python3", "-c", _SURVEY], timeout=120)
    assert result.returncode == 0, result.stderr
    survey: dict[str, object] = json.loads(result.stdout)
    return survey


def _host_etc_text(names: list[str]) -> dict[str, str]:
    """The host's own text of world-readable /etc files that identify it, those that exist."""
    texts = {}
    for name in names:
        try:
            text = (Path("/etc") / name).read_text(errors="replace").strip()
        except OSError:
            continue
        if text:
            texts[name] = text
    return texts


def test_only_the_allowed_entries_of_the_hosts_etc_exist(sandbox: LocalSandbox) -> None:
    survey = _survey(sandbox)
    allowed = set(ETC_ALLOWED) | set(SYNTHETIC_ETC)
    etc = survey["etc"]
    assert isinstance(etc, list)
    unexpected = [n for n in etc if n not in allowed and not any(n.startswith(p.rstrip("*")) for p in allowed)]
    assert unexpected == [], f"host /etc entries outside the allow-list are visible: {unexpected}"
    text = json.dumps(survey)
    for name, host_text in _host_etc_text(["machine-id", "environment"]).items():
        assert host_text not in text, f"the host's /etc/{name} was readable"


def test_a_world_readable_secret_in_the_hosts_etc_is_absent(sandbox: LocalSandbox, planted_etc_secret: str) -> None:
    result = sandbox.exec(["sh", "-c", "cat /etc/labgate-test-*.conf; grep -rs labgate-etc-secret /etc"], timeout=60)
    assert planted_etc_secret not in result.stdout + result.stderr, "a world-readable file in the host's /etc was read"


def test_the_hosts_users_and_name_stay_hidden(sandbox: LocalSandbox) -> None:
    survey = _survey(sandbox)
    files = survey["files"]
    assert isinstance(files, dict)
    host_users = {line.split(":")[0] for line in Path("/etc/passwd").read_text().splitlines() if ":" in line}
    sandbox_users = {line.split(":")[0] for line in files["/etc/passwd"].splitlines() if ":" in line}
    assert sandbox_users <= {"root", "nobody"}, f"host users listed: {sorted(sandbox_users & host_users)}"
    host_name = socket.gethostname()
    assert survey["uname"] == survey["gethostname"] == SANDBOX_HOSTNAME
    if host_name not in ("localhost", SANDBOX_HOSTNAME):
        assert host_name not in (files["/etc/hosts"] + files["/etc/hostname"]).split(), "the host's name is listed"


def test_sys_shows_the_cpu_topology_and_nothing_of_the_hosts_cgroups_or_network(sandbox: LocalSandbox) -> None:
    survey = _survey(sandbox)
    found = survey["sys"]
    assert isinstance(found, list)
    assert "/sys/devices/system/cpu/online" in found, "PoCL and hwloc need the CPU topology"
    leaked = [
        path
        for path in found
        if path.startswith(("/sys/fs/cgroup", "/sys/class/net", "/sys/devices/virtual", "/sys/firmware", "/sys/kernel"))
    ]
    assert leaked == [], f"host state visible under /sys: {leaked[:10]}"


def test_an_inheritable_descriptor_of_labgate_does_not_reach_the_sandbox(sandbox: LocalSandbox, tmp_path: Path) -> None:
    secret, seen = inherited_descriptors(sandbox, tmp_path)
    assert secret not in seen
    assert "labgate.db" not in seen and "pipe:" not in seen, seen


def test_a_neighbour_sandbox_and_labgate_are_out_of_reach(tmp_path: Path) -> None:
    if shutil.which("ipcmk") is None or shutil.which("ipcs") is None:
        pytest.skip("ipcmk/ipcs (util-linux) are needed to make a System V segment")
    first = LocalSandbox(workdir=tmp_path / "a")
    second = LocalSandbox(workdir=tmp_path / "b")
    try:
        report = neighbour_report(first, second)
    finally:
        first.close()
        second.close()
    assert "report: []" in report, report


def test_open_mpi_starts_ranks_with_the_sandboxs_own_names(sandbox: LocalSandbox) -> None:
    """Honest parallel work: mpirun resolves the (synthesised) host name and starts its ranks."""
    if shutil.which("mpirun") is None:
        pytest.skip("Open MPI is not installed")
    result = sandbox.exec(
        ["mpirun", "--oversubscribe", "-np", "2", "python3", "-c", "import socket; print(socket.gethostname())"],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [SANDBOX_HOSTNAME, SANDBOX_HOSTNAME]


def _host_private(tmp_path: Path) -> tuple[Path, str]:
    private = tmp_path / "host-private"
    (private / "worker").mkdir(parents=True)
    private.chmod(0o700)
    secret = f"labgate-host-secret-{secrets.token_hex(8)}"
    (private / "key").write_text(secret)
    return private, secret


def test_a_link_left_in_an_experiment_cannot_become_a_local_sandbox_directory(tmp_path: Path) -> None:
    """A candidate leaves `worker -> <host directory>`; a sandbox later made at `worker` (or below a link it
    left) would bind the host directory read-write, its files readable and writable by the candidate."""
    from sandboxes import SandboxPathError

    private, _ = _host_private(tmp_path)
    experiment = LocalSandbox(workdir=tmp_path / "experiments" / "a")
    planted = experiment.exec(["sh", "-c", f"ln -s {private} worker && ln -s {private} run"], timeout=60)
    assert planted.returncode == 0, planted.stderr
    for path in ("worker", "worker/nested", "run/worker"):
        with pytest.raises(SandboxPathError, match="symbolic link"):
            LocalSandbox(workdir=experiment.workdir / path)
    assert sorted(os.listdir(private)) == ["key", "worker"], "a sandbox wrote into the host directory"


def test_a_local_sandbox_directory_swapped_for_a_link_after_it_was_made_is_refused(tmp_path: Path) -> None:
    """The harness made `run/worker` for a second sandbox; the first puts a link to a host directory in place of
    `run` before the second's first command, which would then run in the host directory."""
    from sandboxes import SandboxPathError

    private, secret = _host_private(tmp_path)
    experiment = LocalSandbox(workdir=tmp_path / "experiments" / "a")
    worker = LocalSandbox(workdir=experiment.workdir / "run" / "worker")
    swap = experiment.exec(["sh", "-c", f"mv run run.old && ln -s {private} run"], timeout=60)
    assert swap.returncode == 0, swap.stderr
    with pytest.raises(SandboxPathError, match="symbolic link"):
        worker.exec(["sh", "-c", "cat ../key; touch planted"], timeout=60)
    assert sorted(os.listdir(private / "worker")) == [], "the second sandbox ran in the host directory"
    assert secret not in "".join(os.listdir(private))
