"""What a hostile candidate sees of the host from a docker container, and of Ray from a Ray worker's sandbox.

The docker tests (`test_sandbox_docker.py`) cover network, limits, writes outside, secrets in the
environment, container reuse and ownership tricks. These attacks read what the container shows or
leave something for the host to follow:

- the host's resolver (nameservers, search domains) in the container's /etc/resolv.conf;
- the host's /sys: block devices and their serial numbers, PCI devices, kernel state, cgroups;
- a symbolic link left in the experiment directory where the harness later makes another sandbox
  (`worker -> /srv/secrets`): the engine mounts, and the ownership walk chowns, what a path resolves to;
- descriptors labgate holds open and inheritable;
- another experiment's container of the same pool: its processes, /dev/shm, /tmp, System V IPC,
  abstract unix sockets, directory.

On a Ray worker, an experiment's sandbox must be built exactly as a local run's pool builds it, and
must reach neither Ray's control plane (GCS, the raylet's and the object store's unix sockets, the
dashboard) nor its shared memory.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandboxes import (
    DockerSandboxConfig,
    DockerSandboxes,
    LocalSandboxConfig,
    SandboxPathError,
    get_sandbox,
    open_sandboxes,
)
from sandboxes._local import SYS_ALLOWED
from tests.conftest import docker_image, require_tool
from tests.sandbox_probes import inherited_descriptors, neighbour_report

# Lists what the container shows of /sys and reads its resolver configuration.
_SURVEY = r"""
import json, os
found = []
for root, dirs, files in os.walk("/sys"):
    found += [os.path.join(root, name) for name in dirs + files]
    if len(found) > 200000:
        break
apt = {}
for root, dirs, files in os.walk("/etc/apt"):
    for name in files:
        try:
            apt[os.path.join(root, name)] = open(os.path.join(root, name), errors="replace").read(4096)
        except OSError as error:
            apt[os.path.join(root, name)] = f"refused: {error.strerror}"
print(json.dumps({"sys": found, "resolv": open("/etc/resolv.conf").read(), "apt": apt}))
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[DockerSandboxes]:
    docker_image("kernels")
    sandboxes = DockerSandboxes("kernels", shared_root=tmp_path / "experiments")
    yield sandboxes
    sandboxes.close()


def _survey(pool: DockerSandboxes, workdir: Path) -> dict[str, Any]:
    sandbox = pool(workdir)
    try:
        result = sandbox.exec(["python3", "-c", _SURVEY], timeout=120)
    finally:
        sandbox.close()
    assert result.returncode == 0, result.stderr
    survey: dict[str, Any] = json.loads(result.stdout)
    return survey


def _resolver_lines(text: str, keys: tuple[str, ...]) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip().split(" ", 1)[0] in keys}


@pytest.mark.docker
def test_the_resolver_names_nothing_of_the_hosts_network(pool: DockerSandboxes, tmp_path: Path) -> None:
    survey = _survey(pool, tmp_path / "experiments" / "a")
    inside = survey["resolv"]
    try:
        host = Path("/etc/resolv.conf").read_text()
    except OSError:
        host = ""
    leaked = _resolver_lines(host, ("nameserver", "search", "domain")) & _resolver_lines(inside, ("nameserver",))
    assert not leaked, f"the host's resolver is visible: {sorted(leaked)}"
    assert _resolver_lines(inside, ("search", "domain")) == set(), inside
    nameservers = {line.split()[1] for line in _resolver_lines(inside, ("nameserver",))}
    assert nameservers <= {"127.0.0.1"}, inside


@pytest.mark.docker
def test_sys_shows_the_cpu_topology_and_nothing_of_the_hosts_devices_or_kernel(
    pool: DockerSandboxes, tmp_path: Path
) -> None:
    found: list[str] = _survey(pool, tmp_path / "experiments" / "a")["sys"]
    assert "/sys/devices/system/cpu/online" in found, "PoCL and hwloc need the CPU topology"
    allowed = tuple(f"/sys/{relative}" for relative in SYS_ALLOWED)
    outside = [
        path
        for path in found
        if not path.startswith(allowed) and not any(entry.startswith(path + "/") for entry in allowed)
    ]
    assert outside == [], f"host state visible under /sys: {outside[:10]}"


@pytest.mark.docker
def test_the_mirror_the_image_was_built_from_stays_hidden(pool: DockerSandboxes, tmp_path: Path) -> None:
    """apt's sources hold the build's mirror URL (and its credentials, where the URL had them)."""
    import docker

    client = docker.from_env()
    try:
        built = client.containers.run(
            pool.reference, ["cat", "/etc/apt/sources.list"], remove=True, network_mode="none", user="65534"
        )
    finally:
        client.close()
    assert b"deb " in built, "the image no longer holds apt sources: this test shows nothing"
    apt = _survey(pool, tmp_path / "experiments" / "a")["apt"]
    assert apt == {}, f"build-time configuration readable: {sorted(apt)}"


@pytest.mark.docker
def test_a_link_left_in_an_experiment_cannot_become_a_sandbox_directory(pool: DockerSandboxes, tmp_path: Path) -> None:
    """A candidate leaves `worker -> <host directory>` and `run -> <host directory>`; the harness later asks
    for a sandbox at `worker` or below `run`, from the run's pool or, as a Ray worker does, from a new one."""
    private = tmp_path / "host-private"
    private.mkdir(mode=0o700)
    secret = f"labgate-host-secret-{secrets.token_hex(8)}"
    (private / "key").write_text(secret)
    owner = private.stat().st_uid
    experiment = pool(tmp_path / "experiments" / "a")
    try:
        experiment.exec(["sh", "-c", f"ln -s {private} worker && ln -s {private} run"], timeout=60)
    finally:
        experiment.close()
    assert (experiment.workdir / "worker").is_symlink()
    config = DockerSandboxConfig(image="kernels")
    for planted in ("worker", "worker/nested", "run/worker"):
        with pytest.raises(SandboxPathError, match="symbolic link"):
            pool(experiment.workdir / planted)
        with pytest.raises(SandboxPathError, match="symbolic link"):
            get_sandbox(config, experiment.workdir / planted)
    assert sorted(os.listdir(private)) == ["key"], "the sandbox wrote into the host directory"
    assert private.stat().st_uid == owner and (private / "key").stat().st_uid == owner


@pytest.mark.docker
def test_a_sandbox_directory_swapped_for_a_link_after_it_was_made_is_refused(
    pool: DockerSandboxes, tmp_path: Path
) -> None:
    """The harness made `run/worker` for a second sandbox; the candidate, still running in the first, puts
    a link to a host directory in place of `run` before the second sandbox's first command."""
    private = tmp_path / "host-private"
    (private / "worker").mkdir(parents=True, mode=0o700)
    private.chmod(0o700)
    (private / "worker" / "key").write_text(f"labgate-host-secret-{secrets.token_hex(8)}")
    owner = private.stat().st_uid
    experiment = pool(tmp_path / "experiments" / "a")
    worker = pool(experiment.workdir / "run" / "worker")
    try:
        swap = experiment.exec(["sh", "-c", f"mv run run.old && ln -s {private} run"], timeout=60)
        assert swap.returncode == 0, swap.stderr
        with pytest.raises(SandboxPathError, match="symbolic link"):
            worker.exec(["sh", "-c", "cat key; echo planted > planted"], timeout=60)
    finally:
        worker.close()
        experiment.close()
    assert sorted(os.listdir(private / "worker")) == ["key"], "the sandbox wrote into the host directory"
    for path in (private / "worker", private / "worker" / "key"):
        assert path.stat().st_uid == owner, f"{path} changed hands"
    assert stat.S_IMODE((private / "worker").stat().st_mode) == 0o700


@pytest.mark.docker
def test_an_inheritable_descriptor_of_labgate_does_not_reach_a_command(pool: DockerSandboxes, tmp_path: Path) -> None:
    sandbox = pool(tmp_path / "experiments" / "a")
    try:
        secret, seen = inherited_descriptors(sandbox, tmp_path)
    finally:
        sandbox.close()
    assert secret not in seen
    assert "labgate.db" not in seen and "pipe:" not in seen, seen


@pytest.mark.docker
def test_another_experiment_of_the_pool_is_out_of_reach(pool: DockerSandboxes, tmp_path: Path) -> None:
    first = pool(tmp_path / "experiments" / "a")
    second = pool(tmp_path / "experiments" / "b")
    try:
        report = neighbour_report(first, second)
    finally:
        first.close()
        second.close()
    assert "report: []" in report, report


# --- Ray ---------------------------------------------------------------------------------------------

# Tries every way into Ray from inside the sandbox: the GCS over TCP, the dashboard, the raylet's and
# the object store's unix sockets, Ray's session directory and shared memory, Ray's variables.
_RAY_PROBE = r"""
import json, os, socket, sys
where = json.loads(sys.argv[1])
report = []
for host, port in [where["gcs"], ["127.0.0.1", 8265]]:
    connection = socket.socket()
    connection.settimeout(3)
    try:
        connection.connect((host, port))
        report.append(f"connected to {host}:{port}")
    except OSError:
        pass
for path in where["sockets"]:
    connection = socket.socket(socket.AF_UNIX)
    try:
        connection.connect(path)
        report.append(f"connected to {path}")
    except OSError:
        pass
for path in [where["session"], "/tmp/ray"]:
    if os.path.exists(path):
        report.append(f"sees {path}")
if os.path.isdir("/dev/shm") and os.listdir("/dev/shm"):
    report.append(f"sees shared memory {os.listdir('/dev/shm')[:5]}")
report += [f"variable {name}" for name in os.environ if "RAY" in name.upper()]
print("report:", report)
"""


def _ray_places() -> dict[str, Any]:
    """Where this worker's Ray listens: the GCS address, the raylet's and object store's sockets."""
    import ray

    node: Any = ray._private.worker.global_worker.node
    assert node is not None, "not inside a Ray worker"
    host, port = node.gcs_address.rsplit(":", 1)
    return {
        "gcs": [host, int(port)],
        "sockets": [node.raylet_socket_name, node.plasma_store_socket_name],
        "session": node.get_session_dir_path(),
    }


def _probe_from_a_worker_sandbox(config: LocalSandboxConfig | DockerSandboxConfig) -> tuple[dict[str, Any], str, str]:
    """Runs in a Ray task: the sandbox an experiment gets there, probed, and what it says of itself."""
    from agents.executors._ray import worker_sandbox_factory

    places = _ray_places()
    with tempfile.TemporaryDirectory(prefix="labgate-ray-probe-") as scratch:
        sandbox = worker_sandbox_factory(config)(Path(scratch) / "experiment")
        try:
            result = sandbox.exec(["python3", "-c", _RAY_PROBE, json.dumps(places)], timeout=120)
            described = sandbox.describe()
            limits = sandbox.limits
        finally:
            sandbox.close()
    return {"described": described, "limits": limits}, result.stdout, result.stderr


@pytest.fixture(scope="module")
def ray_worker() -> Iterator[Any]:
    """A local Ray instance started as the executor starts it, and the probe as a Ray task."""
    try:
        import ray
    except ImportError:
        require_tool(False, "Ray (pip install 'labgate[ray]')")
        raise
    from agents.executors._ray import RayExecutor

    RayExecutor(None, sandbox=LocalSandboxConfig(), num_cpus=1)
    try:
        yield ray.remote(_probe_from_a_worker_sandbox)
    finally:
        ray.shutdown()


def _local_view(config: LocalSandboxConfig | DockerSandboxConfig, tmp_path: Path) -> dict[str, Any]:
    with open_sandboxes(config) as factory:
        sandbox = factory(tmp_path / "local")
        try:
            return {"described": sandbox.describe(), "limits": sandbox.limits}
        finally:
            sandbox.close()


def _configs() -> list[Any]:
    return [
        pytest.param(LocalSandboxConfig(), id="local"),
        pytest.param(DockerSandboxConfig(image="kernels"), marks=pytest.mark.docker, id="docker"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("config", _configs())
def test_a_sandbox_on_a_ray_worker_is_the_local_one_and_reaches_no_part_of_ray(
    ray_worker: Any, config: LocalSandboxConfig | DockerSandboxConfig, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import ray

    if isinstance(config, DockerSandboxConfig):
        docker_image("kernels")
    else:
        request.getfixturevalue("bubblewrap")
    seen, stdout, stderr = ray.get(ray_worker.remote(config))
    assert "report: []" in stdout, stdout + stderr
    local = _local_view(config, tmp_path)
    assert seen["limits"] == local["limits"], "a Ray worker's sandbox has other limits than a local run's"
    # Only container sharing may differ: a worker gives each sandbox a container of its own.
    worker_described = {k: v for k, v in seen["described"].items() if k != "reuse"}
    local_described = {k: v for k, v in local["described"].items() if k != "reuse"}
    assert worker_described == local_described
    if isinstance(config, LocalSandboxConfig):
        assert worker_described["isolation"] == "bubblewrap", "no isolation downgrade by default"


def _tree(root: Path) -> dict[str, str]:
    """Every entry below root, without following links: 'dir', 'link', 'fifo' or the file's text."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = "link"
        elif path.is_dir():
            found[relative] = "dir"
        elif stat.S_ISFIFO(path.lstat().st_mode):
            found[relative] = "fifo"
        else:
            found[relative] = path.read_bytes().hex()
    return found


def test_what_a_worker_ships_back_is_the_tree_the_gates_would_see_locally(tmp_path: Path) -> None:
    """A Ray worker ships the experiment directory to the head, which unpacks it for the gates: empty
    directories (a time directory OpenFOAM would not read) arrive as they are, a pickle arrives as
    bytes and is never loaded, links and special files stay behind and are named."""
    from agents.executors._ray import _pack, _unpack

    marker = tmp_path / "unpickled"
    worker = tmp_path / "worker"
    (worker / "case" / "1_000").mkdir(parents=True)
    (worker / "case" / "100").mkdir()
    (worker / "case" / "100" / "U").write_text("internalField uniform (1 0 0);\n")
    (worker / "result.pkl").write_bytes(
        b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    )  # pickle of os.system('touch ...')
    (worker / "passwd").symlink_to("/etc/passwd")
    (worker / "etc").symlink_to("/etc", target_is_directory=True)
    os.mkfifo(worker / "pipe")
    archive, refused = _pack(worker)
    head = tmp_path / "head"
    _unpack(archive, head)
    assert _tree(head) == {
        "case": "dir",
        "case/1_000": "dir",
        "case/100": "dir",
        "case/100/U": (worker / "case" / "100" / "U").read_bytes().hex(),
        "result.pkl": (worker / "result.pkl").read_bytes().hex(),
    }
    assert sorted(reason.split(":", 1)[0] for reason in refused) == ["etc", "passwd", "pipe"]
    assert not marker.exists(), "a file the sandbox wrote was unpickled"


def test_the_files_shipped_to_the_head_add_up_to_at_most_the_sandboxes_disk_budget(tmp_path: Path) -> None:
    """Sparse files cost a sandbox almost nothing yet are written out whole on the head: past the total, files
    are left out and named."""
    from agents.executors._ray import _pack, _unpack

    worker = tmp_path / "worker"
    worker.mkdir()
    for name in ("a", "b", "c"):
        with open(worker / name, "wb") as handle:
            handle.truncate(3 << 20)
    archive, refused = _pack(worker, max_total=7 << 20)
    head = tmp_path / "head"
    _unpack(archive, head)
    assert sorted(path.name for path in head.iterdir()) == ["a", "b"]
    assert [reason.split(":", 1)[0] for reason in refused] == ["c"] and "add up to" in refused[0]
