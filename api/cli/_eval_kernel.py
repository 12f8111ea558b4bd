"""`agent eval-kernel TASK FILE`: judge a kernel someone wrote, with the same harness and gates as a search."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from api._errors import BadInputError
from sandboxes import LocalSandbox, Sandbox, SandboxError
from tools import TaskError
from tools.kernels import kernel_task
from verifiers.kernels import KernelCorrectnessGate, KernelHeldoutGate, SideBySide, measure


def _sizes(result: SideBySide) -> list[dict[str, Any]]:
    rows = []
    for index, size in enumerate(result.candidate.sizes):
        seed = result.seed.sizes[index] if index < len(result.seed.sizes) else None
        rows.append(
            {
                **size.model_dump(mode="json"),
                "seed_seconds": seed.seconds if seed else None,
                "speedup": seed.seconds / size.seconds if seed and size.seconds > 0 and seed.seconds > 0 else None,
            }
        )
    return rows


def _speed(result: SideBySide) -> dict[str, Any] | None:
    """The held-out speed decision with its interval, or None when no ratio was measured."""
    speed = result.speed
    if speed is None:
        return None
    return {
        "ratio": speed.ratio,
        "low": speed.low,
        "high": speed.high,
        "rounds": speed.rounds,
        "threshold": speed.threshold,
        "verdict": speed.verdict,
    }


@click.command("eval-kernel")
@click.argument("task")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option(
    "--min-speedup",
    type=click.FloatRange(min=0, min_open=True),
    default=0.9,
    show_default=True,
    help="held-out speed relative to the seed, required with 95% confidence",
)
@click.option("--timeout", type=click.FloatRange(min=1), default=60.0, show_default=True, help="seconds per size")
@click.option("--unsafe-no-isolation", is_flag=True, help="run the worker without bubblewrap (rlimits only)")
def eval_kernel_command(
    task: str, file: Path, as_json: bool, min_speedup: float, timeout: float, unsafe_no_isolation: bool
) -> None:
    """Evaluate the OpenCL kernel in FILE on TASK (e.g. kernels/heat2d): in-distribution sizes, then held-out."""
    try:
        definition = kernel_task(task)
    except TaskError as error:
        raise BadInputError(str(error)) from None
    try:
        source = file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(f"cannot read kernel file {file}: {getattr(error, 'strerror', None) or error}") from None
    if not source.strip():
        raise BadInputError(f"kernel file {file} is empty")

    def factory(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return LocalSandbox(workdir=workdir, ro_paths=tuple(ro_paths), isolation=not unsafe_no_isolation)

    try:
        train = measure(definition, source, "train", factory, timeout=timeout)
        heldout = measure(definition, source, "heldout", factory, timeout=timeout, min_speedup=min_speedup)
    except SandboxError as error:
        raise BadInputError(f"cannot run the sandboxed worker: {error}") from None
    train_ok, train_reasons = KernelCorrectnessGate().judge(train, min_speedup)
    held_ok, held_reasons = KernelHeldoutGate().judge(heldout, min_speedup)
    decision = "accept" if train_ok and held_ok else "reject"
    reasons = [f"kernel-correctness: {train_reasons[0]}", f"kernel-heldout: {held_reasons[0]}"]
    report = {
        "decision": decision,
        "task": f"kernels/{definition.name}",
        "fitness": train.candidate.fitness,
        "seed_fitness": train.seed.fitness,
        "speedup": train.speedup(),
        "status": train.candidate.status,
        "message": train.candidate.message,
        "sizes": _sizes(train),
        "heldout": {
            "decision": "accept" if held_ok else "reject",
            "fitness": heldout.candidate.fitness,
            "seed_fitness": heldout.seed.fitness,
            "speedup": heldout.speedup(),
            "speed": _speed(heldout),
            "status": heldout.candidate.status,
            "message": heldout.candidate.message,
            "sizes": _sizes(heldout),
        },
        "reasons": reasons,
        "input_seeds": {"train": train.input_seed, "heldout": heldout.input_seed},
    }
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    click.echo(f"{report['task']}: {file}")
    click.echo("in-distribution:")
    click.echo("  " + train.candidate.feedback().replace("\n", "\n  "))
    click.echo("held-out:")
    click.echo("  " + heldout.candidate.feedback().replace("\n", "\n  "))
    click.echo(f"speedup over the seed: {train.speedup():.2f}x in-distribution, {heldout.speedup():.2f}x held-out")
    if heldout.speed is not None:
        click.echo(f"held-out speed decision: {heldout.speed.verdict}, {heldout.speed.describe()}")
    for reason in reasons:
        click.echo(f"  {reason}")
    click.echo(f"decision: {decision}")
