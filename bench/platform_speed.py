"""Platform speed: every row of the speed table, measured side by side, printed as one JSON line.

Rows (each a median of `--repeats` >= 3 runs; the arms of a row take turns going first):
  agent_over_direct   `agent run cfd/cavity` (Re 100 and 400, 64x64) over OpenFOAM run by hand on the
                      same cases side by side, no sandbox, no store (goal <= 1.05)
  local_tiny          what the local sandbox adds per tiny experiment (8x8 cavity, 20 in sequence, taking
                      turns with the same experiment run by hand): milliseconds per experiment over
                      direct and the ratio (goal <= +10 ms)
  docker_warm_tiny    the same through a run's pool of warm docker containers (goal <= +100 ms);
                      null with the reason when no engine answers or the openfoam image is not built
  sweep_throughput    8 cavity cases through `agent run`, one worker over `--workers` (goal >= 1.8); beside it
                      the CPU seconds of each arm (the run and every process it waited for) and the
                      throughput that CPU allows at most (`sweep_throughput_cpu_bound`: the sequential
                      time over the parallel arm's CPU spread evenly over the workers)
  ray_over_local      the same kind of 8-case sweep on the Ray executor over the local one (goal <= 1.10):
                      each run starting a Ray instance of its own (`ray_over_local`), and joining a
                      cluster that `ray start --head` started on this machine, as a Ray deployment runs
                      (`ray_cluster_over_local`): the cluster is started before each of those runs and
                      stopped after it, untimed, with `ray stop --force`, which ends every Ray process
                      on the machine (use --no-ray where a cluster of your own is running); and joining
                      such a cluster after one untimed run went through it (`ray_warm_cluster_over_local`),
                      as a deployment's cluster has served runs before
  startup             seconds from `agent run cfd/cavity`'s start to its first sandboxed solver command
                      (the command is not run), and the CPU seconds the process had used by then

Every arm that runs labgate code runs in a child process started in a source tree, so
`--baseline PATH` (a checkout of an earlier revision, for example made by
`git worktree add --detach /tmp/speed-base HEAD`, or `git archive HEAD | tar -x -C /tmp/speed-base`
into an empty folder) adds the same arms from that tree, interleaved
with today's: the JSON then carries a `baseline` object with the same rows, measured in the same run.

`--quick` keeps every row but makes each smaller (32x32 cavity, 10 tiny experiments, 4-case sweeps
on coarse meshes), so that the whole bench finishes in a few minutes; the JSON says which sizes ran.

`--rows startup,agent_over_direct` measures only those rows. The JSON records the load average
before and after, since other work on the machine moves every number.

Usage: .venv/bin/python bench/platform_speed.py [--quick] [--repeats 3] [--baseline /tmp/speed-base]
       [--no-docker] [--no-ray] [--workers N] [--rows ROW,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GOALS = {
    "agent_over_direct": 1.05,
    "local_tiny_ms_per_experiment": 10.0,
    "docker_warm_tiny_ms_per_experiment": 100.0,
    "sweep_throughput": 1.8,
    "ray_over_local": 1.10,
}
ROWS = ("agent_over_direct", "local_tiny", "docker_warm_tiny", "sweep_throughput", "ray_over_local", "startup")

# Runs `agent run ...` in a child whose working directory is the tree under test; at the first
# sandboxed solver command (blockMesh) it writes the seconds since the parent started it and the
# CPU it used, and exits without running the command: what remains of a run is start-up only.
_STARTUP_WORKER = """
import json, os, resource, subprocess, sys, threading, time
sys.path.insert(0, ".")
started, out = float(sys.argv[1]), sys.argv[2]
real_init = subprocess.Popen.__init__
first = threading.Lock()  # two experiments reach blockMesh together: only the first writes, then all exit
def first_command(self, args, *rest, **kwargs):
    text = " ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args)
    if "blockMesh" in text:
        first.acquire()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        seconds = time.time() - started
        with open(out, "w") as handle:
            json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime}, handle)
        os._exit(0)
    real_init(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = first_command
sys.argv = ["agent", *sys.argv[3:]]
from api.cli import main
main()
"""

# Runs in a child process whose working directory is the source tree under test, so that the
# tree's own `sandboxes` and `tools` are the ones imported. Prints the seconds, or a reason to skip.
_TINY_WORKER = """
import json, sys, tempfile, shutil
from pathlib import Path
sys.path[:0] = [".", "bench"]
import sandbox_overhead as bench
from tools.cfd import CavityParams
arm, count = sys.argv[1], int(sys.argv[2])
case = CavityParams(re=100, cells=8, convective_times=0.5, snapshots=1)
root = Path(tempfile.mkdtemp(prefix="labgate-speed-tiny-"))
pools = []
try:
    if arm == "local":
        run_one = bench.run_in(lambda d: bench.LocalSandbox(workdir=d))
    else:
        why = bench.docker_available()
        if why:
            print(json.dumps({"skipped": why}))
            raise SystemExit(0)
        # Experiments lie under the pool's root, as a run's do, so a warm container is lent to each of
        # them; a directory outside it would get a container of its own, started cold.
        warm = bench.WarmPool(root, 1)
        pools.append(warm.pool)
        run_one = bench.run_in(warm)
    run_one(root / "warm-up", case)
    # The arm and OpenFOAM by hand take turns experiment by experiment, so load elsewhere hits both alike.
    totals = {"seconds": 0.0, "direct": 0.0}
    for index in range(count):
        pair = [("seconds", run_one), ("direct", bench.run_direct)]
        for key, run in pair if index % 2 == 0 else pair[::-1]:
            totals[key] += run(root / f"{key}-{index}", case)
    print(json.dumps(totals))
finally:
    for pool in pools:
        pool.close()
    shutil.rmtree(root, ignore_errors=True)
"""


@dataclass(frozen=True)
class Sizes:
    """How large each row's workload is (`--quick` shrinks every one of them)."""

    cavity_cells: int
    tiny: int
    sweep_cases: int
    sweep_cells: int
    sweep_convective_times: int
    ray_cells: tuple[int, ...]


FULL = Sizes(64, 20, 8, 32, 10, (24, 26, 28, 30, 32, 34, 36, 38))
QUICK = Sizes(32, 10, 4, 16, 5, (12, 14, 16, 18))


def _child_env(home: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if home is not None:
        env["LABGATE_HOME"] = str(home)
    return env


def agent(tree: Path, home: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    """Wall time of one `agent ...` run from `tree`, and its JSON summary (it must have finished)."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", *args, "--json"],
        cwd=tree,
        env={**_child_env(home), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    try:
        summary: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"agent {' '.join(args)} in {tree} printed no summary: {result.stderr[-800:]}") from None
    if summary.get("status") != "finished":
        raise RuntimeError(f"agent {' '.join(args)} in {tree} did not finish: {summary.get('reason')}")
    return elapsed, summary


def tiny(tree: Path, arm: str, count: int) -> tuple[float, float] | str:
    """Seconds for `count` tiny experiments on `arm` from `tree` and for the same by hand, interleaved;
    or why the arm cannot run."""
    result = subprocess.run(
        [sys.executable, "-c", _TINY_WORKER, arm, str(count)],
        cwd=tree,
        env=_child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tiny {arm} experiments in {tree} failed: {result.stderr[-800:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if "skipped" in answer:
        return str(answer["skipped"])
    return float(answer["seconds"]), float(answer["direct"])


def startup(tree: Path, home: Path, args: list[str]) -> tuple[float, float]:
    """Seconds from starting `agent ...` in `tree` to its first sandboxed solver command, and its CPU seconds."""
    out = home.parent / f"{home.name}.startup.json"
    result = subprocess.run(
        [sys.executable, "-c", _STARTUP_WORKER, repr(time.time()), str(out), *args],
        cwd=tree,
        env=_child_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    if not out.exists():
        raise RuntimeError(f"agent {' '.join(args)} in {tree} started no solver: {result.stderr[-800:]}")
    answer = json.loads(out.read_text())
    return float(answer["seconds"]), float(answer["cpu"])


RAY_PORT = 6395


class RayCluster:
    """A Ray head node on loopback offering the `openfoam` resource, as `ray start` makes one for a
    deployment. It runs only during its own arm (started before the timing, stopped after), so its
    daemons take no CPU from the other arms, and no other arm finds a cluster to join."""

    def __init__(self, cpus: int) -> None:
        self.ray = shutil.which("ray", path=str(Path(sys.executable).parent))
        self.env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
        self.cpus = cpus
        self.address = ""

    @property
    def available(self) -> bool:
        return self.ray is not None

    def start(self) -> None:
        assert self.ray is not None
        cpus = self.cpus
        resources = json.dumps({"openfoam": cpus})
        command = [self.ray, "start", "--head", f"--port={RAY_PORT}", f"--num-cpus={cpus}", f"--resources={resources}"]
        command += ["--include-dashboard=false", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
        started = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            env=self.env,
        )
        if started.returncode != 0:
            raise RuntimeError(f"ray start --head failed: {started.stderr[-800:]}")
        self.address = f"127.0.0.1:{RAY_PORT}"

    def run(self, tree: Path, home: Path, args: list[str], warm_up: Path | None = None) -> float:
        """Seconds of one `agent ...` run joining the cluster (its start and stop are not timed). With
        `warm_up` (another home), the same run first goes through once, untimed: the cluster a deployment
        runs has served runs before, while a cluster just started still boots its workers under the first."""
        self.start()
        try:
            if warm_up is not None:
                agent(tree, warm_up, args, {"LABGATE_RAY_ADDRESS": self.address})
            return agent(tree, home, args, {"LABGATE_RAY_ADDRESS": self.address})[0]
        finally:
            self.stop()

    def stop(self) -> None:
        if self.ray is not None and self.address:
            subprocess.run([self.ray, "stop", "--force"], capture_output=True, check=False, env=self.env)
            self.address = ""


PACKAGES = ("agents", "api", "bench", "runs", "sandboxes", "tools", "verifiers")


def byte_compile(tree: Path) -> None:
    """Compile a tree's modules before any arm runs: a fresh checkout (a `--baseline` made by `git archive`)
    has no bytecode, and where PYTHONDONTWRITEBYTECODE is set its imports would compile every module on
    every run, 0.3-0.4 s of start-up that the other tree does not pay."""
    present = [name for name in PACKAGES if (tree / name).is_dir()]
    command = [sys.executable, "-m", "compileall", "-q", *present]
    subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL)


def direct_cavity(root: Path, cells: int) -> float:
    """OpenFOAM by hand on the cavity cases, side by side (no labgate code involved)."""
    sys.path.insert(0, str(REPO / "bench"))
    import sandbox_overhead

    from tools.cfd import CavityParams

    cases = [CavityParams(re=value, cells=cells) for value in (100, 400)]
    return sandbox_overhead.side_by_side(sandbox_overhead.run_direct, root, cases)


def sweep_task(sizes: Sizes) -> str:
    reynolds = [100 + 50 * index for index in range(sizes.sweep_cases)]
    return (
        "extends: cfd/cavity\n"
        "title: cavity sweep for the platform speed benchmark\n"
        f"params: {{cells: {sizes.sweep_cells}, convective_times: {sizes.sweep_convective_times}}}\n"
        f"sweep: {{re: {reynolds}}}\n"
        "gates: [solver-log, deliverables]\n"
        "gate_options: {}\n"
        f"budget: {{experiments: {sizes.sweep_cases}, iterations: 1}}\n"
    )


class Bench:
    """The arms of every row, keyed `row/arm`, each holding one value per repeat."""

    def __init__(self, args: argparse.Namespace, sizes: Sizes, root: Path) -> None:
        self.args = args
        self.sizes = sizes
        self.root = root
        self.trees = {"": REPO}
        if args.baseline:
            self.trees["baseline:"] = Path(args.baseline).resolve()
        for tree in self.trees.values():
            byte_compile(tree)
        self.times: dict[str, list[float]] = {}
        self.skipped: dict[str, str] = {}
        self.task = root / "sweep.yaml"
        self.task.write_text(sweep_task(sizes))
        self.counter = 0
        self.chosen = set(args.rows.split(",")) if args.rows else set(ROWS)
        self.cluster: RayCluster | None = None
        if "ray_over_local" in self.chosen and not args.no_ray:
            self.cluster = RayCluster(args.workers)

    def home(self) -> Path:
        self.counter += 1
        return self.root / f"home-{self.counter}"

    def record(self, key: str, value: float | tuple[float, float] | str) -> None:
        if isinstance(value, str):
            self.skipped[key] = value
        elif isinstance(value, tuple):  # an arm and its own interleaved direct arm
            self.times.setdefault(key, []).append(value[0])
            self.times.setdefault(f"{key}:direct", []).append(value[1])
            self.times.setdefault(f"{key}:over", []).append(value[0] - value[1])
            self.times.setdefault(f"{key}:ratio", []).append(value[0] / value[1])
        else:
            self.times.setdefault(key, []).append(value)

    def arms(self) -> list[tuple[str, Any]]:
        """(key, thunk) for every arm of one repeat (of the rows chosen with --rows)."""
        sizes, args, rows = self.sizes, self.args, self.chosen
        cavity = ["run", "cfd/cavity", "--param", "re=100,400", "--param", f"cells={sizes.cavity_cells}"]
        cavity += ["--budget", "2"]
        found: list[tuple[str, Any]] = []
        if "agent_over_direct" in rows:
            found.append(("cavity/direct", lambda: direct_cavity(self.home(), sizes.cavity_cells)))
        ray_cells = ",".join(str(cells) for cells in sizes.ray_cells)
        ray = ["run", "cfd/cavity", "--param", "re=100", "--param", f"cells={ray_cells}"]
        ray += ["--budget", str(len(sizes.ray_cells))]
        for prefix, tree in self.trees.items():
            if "agent_over_direct" in rows:
                found.append((f"{prefix}cavity/agent", lambda tree=tree: agent(tree, self.home(), cavity)[0]))
            if "local_tiny" in rows:
                found.append((f"{prefix}tiny/local", lambda tree=tree: tiny(tree, "local", sizes.tiny)))
            if "sweep_throughput" in rows:
                found += [
                    (f"{prefix}sweep/sequential", lambda tree=tree: self.sweep(tree, 1)),
                    (f"{prefix}sweep/parallel", lambda tree=tree: self.sweep(tree, args.workers)),
                ]
            if "startup" in rows:
                found.append((f"{prefix}startup", lambda tree=tree: self.startup(tree, cavity)))
            if "docker_warm_tiny" in rows and not args.no_docker:
                found.append((f"{prefix}tiny/docker-warm", lambda tree=tree: tiny(tree, "docker-warm", sizes.tiny)))
            if "ray_over_local" in rows and not args.no_ray:
                found += [
                    (
                        f"{prefix}ray/local",
                        lambda tree=tree: agent(tree, self.home(), [*ray, "--executor", "local"])[0],
                    ),
                    (f"{prefix}ray/ray", lambda tree=tree: agent(tree, self.home(), [*ray, "--executor", "ray"])[0]),
                ]
                cluster = self.cluster
                if cluster is not None and cluster.available:
                    found.append(
                        (
                            f"{prefix}ray/cluster",
                            lambda tree=tree, cluster=cluster: cluster.run(
                                tree, self.home(), [*ray, "--executor", "ray"]
                            ),
                        )
                    )
                    found.append(
                        (
                            f"{prefix}ray/cluster-warm",
                            lambda tree=tree, cluster=cluster: cluster.run(
                                tree, self.home(), [*ray, "--executor", "ray"], warm_up=self.home()
                            ),
                        )
                    )
        return found

    def startup(self, tree: Path, args: list[str]) -> float:
        """Start-up seconds of one run; its CPU seconds are kept beside them (`KEY:cpu`)."""
        seconds, cpu = startup(tree, self.home(), args)
        key = "baseline:startup" if tree != REPO else "startup"
        self.times.setdefault(f"{key}:cpu", []).append(cpu)
        return seconds

    def sweep(self, tree: Path, workers: int) -> float:
        """Wall seconds of the sweep on `workers`; the CPU seconds of the run and of every process it waited for
        (solvers, utilities, figure renderers) are kept beside them (`KEY:cpu`)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed, summary = agent(tree, self.home(), ["run", str(self.task), "--workers", str(workers)])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ran = len(summary["accepted"]) + len(summary["rejected"])
        if ran != self.sizes.sweep_cases:
            raise RuntimeError(f"the sweep ran {ran} cases, not {self.sizes.sweep_cases}")
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        prefix = "baseline:" if tree != REPO else ""
        self.times.setdefault(f"{prefix}sweep/{'sequential' if workers == 1 else 'parallel'}:cpu", []).append(cpu)
        return elapsed

    def run(self) -> None:
        for repeat in range(self.args.repeats):
            arms = self.arms()
            shift = repeat % len(arms)
            for key, thunk in arms[shift:] + arms[:shift]:
                if key in self.skipped:
                    continue
                self.record(key, thunk())
            done = ", ".join(f"{key} {values[-1]:.2f}" for key, values in self.times.items())
            print(f"repeat {repeat + 1}/{self.args.repeats}: {done}", file=sys.stderr, flush=True)

    def median(self, key: str) -> float | None:
        values = self.times.get(key)
        return statistics.median(values) if values else None

    def rows(self, prefix: str) -> dict[str, Any]:
        """The table's rows for one tree (its arms over the shared direct arms)."""
        m = self.median
        rows: dict[str, Any] = {}
        direct, agent_seconds = m("cavity/direct"), m(f"{prefix}cavity/agent")
        if direct and agent_seconds:
            rows["agent_over_direct"] = round(agent_seconds / direct, 3)
            rows["agent_seconds"] = round(agent_seconds, 2)
        for arm in ("local", "docker-warm"):
            name, key = f"{arm.replace('-', '_')}_tiny", f"{prefix}tiny/{arm}"
            over, ratio = m(f"{key}:over"), m(f"{key}:ratio")
            if over is not None and ratio is not None:
                rows[f"{name}_ms_per_experiment"] = round(over / self.sizes.tiny * 1000, 1)
                rows[f"{name}_ratio"] = round(ratio, 3)
            elif key in self.skipped:
                rows[f"{name}_ms_per_experiment"] = None
                rows[f"{name}_skipped"] = self.skipped[key]
        sequential, parallel = m(f"{prefix}sweep/sequential"), m(f"{prefix}sweep/parallel")
        if sequential and parallel:
            rows["sweep_throughput"] = round(sequential / parallel, 3)
            rows["sweep_seconds"] = {"sequential": round(sequential, 2), "parallel": round(parallel, 2)}
            cpu_sequential, cpu_parallel = m(f"{prefix}sweep/sequential:cpu"), m(f"{prefix}sweep/parallel:cpu")
            if cpu_sequential and cpu_parallel:
                rows["sweep_cpu_seconds"] = {"sequential": round(cpu_sequential, 2), "parallel": round(cpu_parallel, 2)}
                # The parallel sweep cannot end before its CPU, spread over the workers, is spent: the most
                # throughput this much CPU allows against the measured sequential time.
                least = cpu_parallel / min(self.args.workers, os.cpu_count() or 1)
                rows["sweep_throughput_cpu_bound"] = round(sequential / least, 3)
        seconds, cpu = m(f"{prefix}startup"), m(f"{prefix}startup:cpu")
        if seconds is not None and cpu is not None:
            rows["startup_seconds"] = round(seconds, 3)
            rows["startup_cpu_seconds"] = round(cpu, 3)
        local, ray, cluster = m(f"{prefix}ray/local"), m(f"{prefix}ray/ray"), m(f"{prefix}ray/cluster")
        if local and ray:
            rows["ray_over_local"] = round(ray / local, 3)
            rows["ray_seconds"] = {"local": round(local, 2), "ray": round(ray, 2)}
        if local and cluster:
            rows["ray_cluster_over_local"] = round(cluster / local, 3)
            rows.setdefault("ray_seconds", {})["cluster"] = round(cluster, 2)
        warm = m(f"{prefix}ray/cluster-warm")
        if local and warm:
            rows["ray_warm_cluster_over_local"] = round(warm / local, 3)
            rows.setdefault("ray_seconds", {})["cluster_warm"] = round(warm, 2)
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="every row, smaller workloads (a few minutes)")
    parser.add_argument("--baseline", metavar="PATH", help="a checkout of an earlier revision, measured alongside")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers of the parallel sweep")
    parser.add_argument("--no-docker", action="store_true", help="leave out the docker row")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray row")
    parser.add_argument("--rows", metavar="ROW,...", help=f"only these rows, of {', '.join(ROWS)}")
    args = parser.parse_args()
    unknown = set(args.rows.split(",")) - set(ROWS) if args.rows else set()
    if unknown:
        parser.error(f"--rows: no row named {', '.join(sorted(unknown))} (rows: {', '.join(ROWS)})")
    if args.repeats < 3:
        parser.error("--repeats must be at least 3: every number is a median")
    if args.baseline and not (Path(args.baseline) / "api" / "cli").is_dir():
        parser.error(f"--baseline {args.baseline} is not a labgate source tree")
    sizes = QUICK if args.quick else FULL
    root = Path(tempfile.mkdtemp(prefix="labgate-speed-"))
    bench = Bench(args, sizes, root)
    load_before = [round(value, 2) for value in os.getloadavg()]
    try:
        bench.run()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result: dict[str, Any] = {
        "benchmark": "platform_speed",
        "quick": args.quick,
        "repeats": args.repeats,
        "cores": os.cpu_count(),
        "workers": args.workers,
        "sizes": {
            "cavity": f"Re 100 + 400, {sizes.cavity_cells}x{sizes.cavity_cells}, side by side",
            "tiny": f"{sizes.tiny} x 8x8 cavity in sequence, each arm interleaved with its own direct runs",
            "sweep": f"{sizes.sweep_cases} cases, {sizes.sweep_cells}x{sizes.sweep_cells}",
            "ray": f"{len(sizes.ray_cells)} cases, cells {list(sizes.ray_cells)}",
        },
        "goals": GOALS,
        "load_average": {"before": load_before, "after": [round(value, 2) for value in os.getloadavg()]},
        **bench.rows(""),
    }
    if args.baseline:
        result["baseline"] = {"tree": str(Path(args.baseline).resolve()), **bench.rows("baseline:")}
    result["median_seconds"] = {key: round(statistics.median(values), 3) for key, values in bench.times.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
