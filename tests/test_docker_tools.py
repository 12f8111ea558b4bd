"""The tool images doing real work through the docker backend, and the errors a user meets without them.

- openfoam: the whole `agent run cfd/cavity --sandbox docker` path, accepted by every gate.
- kernels: `agent run kernels/saxpy --sandbox docker` accepted by its gates, and an OpenCL stencil
  built and run by PoCL through the image's own pyopencl, checked against NumPy.
- coq: coqc accepts a proof (with Coquelicot and CoqHammer loaded) and rejects a false one; a miniF2F
  problem searched and accepted by the proof gate with every prover run in the image; a cheat rejected there.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runs import RunStore
from sandboxes import DockerSandboxConfig, SandboxUnavailableError, get_sandbox
from tests.conftest import agent, docker_image


@pytest.mark.docker
@pytest.mark.slow
def test_cavity_is_accepted_in_the_openfoam_image(home: Path) -> None:
    reference = docker_image("openfoam")
    result = agent(
        "run", "cfd/cavity", "--sandbox", "docker", "--param", "re=100", "--budget", "1", "--json", home=home
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["status"] == "finished" and summary["accepted"] == ["re=100"], summary
    gates = {v["gate"]: v["decision"] for v in summary["verdicts"]}
    assert gates == {"solver-log": "accept", "deliverables": "accept", "comparator": "accept"}
    store = RunStore(home)
    try:
        run = store.get_run(summary["run_id"])
        assert run.environment["sandbox"]["backend"] == "docker"
        assert run.environment["sandbox"]["image"] == reference
        assert run.options["sandbox"] == "docker"
    finally:
        store.engine.dispose()
    case = home / "runs" / summary["run_id"] / "experiments" / "re=100" / "case"
    assert "End" in (case / "log.icoFoam").read_text()
    assert all(path.stat().st_uid == case.stat().st_uid for path in case.rglob("*")), "ownership not returned"


@pytest.mark.docker
@pytest.mark.slow
def test_a_kernel_search_is_accepted_in_the_kernels_image(home: Path) -> None:
    """The kernels workload's own worker (labgate's interpreter and packages mounted read-only) on PoCL."""
    docker_image("kernels")
    result = agent(
        "run", "kernels/saxpy", "--sandbox", "docker", "--param", "evaluations=4", "--json", home=home, timeout=900
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["status"] == "finished" and summary["accepted"] == ["search"], summary
    assert {v["gate"]: v["decision"] for v in summary["verdicts"]} == {
        "kernel-correctness": "accept",
        "kernel-heldout": "accept",
    }


_STENCIL = textwrap.dedent(
    """
    import numpy as np, pyopencl as cl
    ctx = cl.create_some_context(interactive=False)
    queue = cl.CommandQueue(ctx)
    print(ctx.devices[0].platform.name)
    source = '''__kernel void smooth(__global const float *u, __global float *v, const int n) {
      int i = get_global_id(0);
      if (i > 0 && i < n - 1) v[i] = 0.25f * u[i - 1] + 0.5f * u[i] + 0.25f * u[i + 1];
      else if (i < n) v[i] = u[i];
    }'''
    program = cl.Program(ctx, source).build()
    n = 1 << 16
    u = np.random.default_rng(7).random(n, dtype=np.float32)
    flags = cl.mem_flags
    du = cl.Buffer(ctx, flags.READ_ONLY | flags.COPY_HOST_PTR, hostbuf=u)
    dv = cl.Buffer(ctx, flags.WRITE_ONLY, u.nbytes)
    program.smooth(queue, (n,), None, du, dv, np.int32(n))
    v = np.empty_like(u)
    cl.enqueue_copy(queue, v, dv)
    expected = u.copy()
    expected[1:-1] = 0.25 * u[:-2] + 0.5 * u[1:-1] + 0.25 * u[2:]
    print(float(np.abs(v - expected).max()))
    """
)


@pytest.mark.docker
@pytest.mark.slow
def test_an_opencl_kernel_runs_on_pocl_in_the_kernels_image(tmp_path: Path) -> None:
    docker_image("kernels")
    with get_sandbox(DockerSandboxConfig(image="kernels"), tmp_path / "kernel") as sandbox:
        sandbox.write_file("stencil.py", _STENCIL)
        result = sandbox.exec(["python3", "stencil.py"], timeout=300)
    assert result.success, result.stderr[-2000:]
    platform, error = result.stdout.split("\n")[:2]
    assert platform == "Portable Computing Language"
    assert float(error) < 1e-6


_PROOF = textwrap.dedent(
    """
    From Coquelicot Require Import Coquelicot.
    From Hammer Require Import Tactics.
    Require Import Arith.

    Lemma add_comm_checked : forall n m : nat, n + m = m + n.
    Proof. intros; sauto. Qed.
    """
)

_FALSE = textwrap.dedent(
    """
    Lemma wrong : forall n : nat, n + 1 = n.
    Proof. intros; reflexivity. Qed.
    """
)


@pytest.mark.docker
@pytest.mark.slow
def test_coqc_checks_proofs_in_the_coq_image(tmp_path: Path) -> None:
    docker_image("coq")
    with get_sandbox(DockerSandboxConfig(image="coq"), tmp_path / "proof") as sandbox:
        sandbox.write_file("Good.v", _PROOF)
        sandbox.write_file("Bad.v", _FALSE)
        good = sandbox.exec(["coqc", "Good.v"], timeout=300)
        bad = sandbox.exec(["coqc", "Bad.v"], timeout=300)
    assert good.success, good.stderr[-2000:]
    assert (tmp_path / "proof" / "Good.vo").is_file()
    assert not bad.success and "Unable to unify" in bad.stderr + bad.stdout
    assert not (tmp_path / "proof" / "Bad.vo").exists()


@pytest.mark.docker
@pytest.mark.slow
def test_a_minif2f_problem_is_proved_and_a_cheat_rejected_in_the_coq_image(home: Path, tmp_path: Path) -> None:
    reference = docker_image("coq")
    result = agent(
        "run", "proofs/minif2f-valid/mathd_algebra_10", "--sandbox", "docker", "--json", home=home, timeout=900
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["accepted"] == ["mathd_algebra_10"], summary
    assert [(v["gate"], v["decision"]) for v in summary["verdicts"]] == [("proof-check", "accept")]
    store = RunStore(home)
    try:
        environment = store.get_run(summary["run_id"]).environment
        assert environment["sandbox"]["backend"] == "docker" and environment["sandbox"]["image"] == reference
    finally:
        store.engine.dispose()
    cheat = tmp_path / "cheat.yaml"
    cheat.write_text(
        json.dumps(
            {
                "id": "proofs/cheat",
                "workload": "proofs",
                "gates": ["proof-check"],
                "params": {
                    "header": "Require Import Arith.\n",
                    "statement": "Theorem wrong : forall n : nat, n + 1 = n.",
                    "proof": "Proof. intros. induction n; simpl; admit. Admitted.",
                },
            }
        )
    )
    rejected = json.loads(agent("run", str(cheat), "--sandbox", "docker", "--json", home=home, timeout=600).stdout)
    assert rejected["accepted"] == [], rejected
    assert [v["decision"] for v in rejected["verdicts"]] == ["reject"], rejected
    assert "Admitted" in " ".join(rejected["verdicts"][0]["reasons"]), rejected


@pytest.mark.docker
def test_a_missing_image_names_the_command_that_builds_it(home: Path) -> None:
    docker_image("openfoam")  # needs the engine; the image asked for below is absent on purpose
    result = agent(
        "run", "cfd/cavity", "--sandbox", "docker", "--image", "labgate/openfoam:000000000000", "--json", home=home
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and summary["status"] == "failed"
    assert "labgate/openfoam:000000000000 is not on this machine" in summary["reason"]
    assert "agent images build openfoam" in summary["reason"]


def test_an_absent_engine_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(SandboxUnavailableError, match="no Docker engine answers") as caught:
        get_sandbox(DockerSandboxConfig(image="openfoam"), tmp_path / "w")
    assert "--sandbox local" in str(caught.value) and "Traceback" not in str(caught.value)
    result = agent(
        "run",
        "cfd/cavity",
        "--sandbox",
        "docker",
        "--json",
        home=tmp_path / "home",
        env={"DOCKER_HOST": f"unix://{tmp_path}/x.sock"},
    )
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and "no Docker engine answers" in summary["reason"]


def test_image_only_with_the_docker_sandbox(home: Path) -> None:
    result = agent("run", "cfd/cavity", "--sandbox", "local", "--image", "openfoam", home=home)
    assert result.returncode == 2 and "--image applies to the docker sandbox only" in result.stderr
    result = agent("run", "cfd/cavity", "--sandbox", "docker", "--image", "bad name!", home=home)
    assert result.returncode == 2 and "not a valid docker image name" in result.stderr


@pytest.mark.parametrize(
    ("mirror", "named"),
    [
        ("http://user:token@deb.example.org/debian", "carries credentials"),
        ("https://:token@deb.example.org/debian", "carries credentials"),
        ("ftp://deb.example.org/debian", "not an http, https or file URL"),
        ("deb.example.org/debian", "not an http, https or file URL"),
    ],
)
def test_a_mirror_the_image_would_record_with_credentials_is_refused_before_building(mirror: str, named: str) -> None:
    """The mirror's URL is written into the base image's apt sources, which every sandbox could read."""
    from sandboxes._images import ImageBuildError, build_images

    with pytest.raises(ImageBuildError, match=named):
        build_images(["openfoam"], mirror=mirror, client=object())
