"""`agent check-proof TASK FILE`: run the proof gate on a proof a user wrote for a catalog statement.

Bad input is raised as `click.UsageError`, which the `agent` entry point prints as one line.

Exit codes: 0 when the gate accepts, 1 when it rejects, 2 for bad input (unknown task, a set
instead of one problem, unreadable file, Coq missing).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console

from api._settings import Settings, build_catalog
from sandboxes import LocalSandboxConfig, SandboxError, open_sandboxes
from tools import TaskError
from tools.proofs import CoqConfig, CoqProver, ProverUnavailableError, resolve_problem
from verifiers.proofs import GATE_COQ_ARGS, ProofOptions, check_proof


@click.command("check-proof")
@click.argument("task")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='print {"decision", "reasons", "assumptions"}')
@click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True, help="seconds for coqc")
@click.option("--unsafe-no-isolation", is_flag=True, help="run coqc without bubblewrap (rlimits only)")
def check_proof_command(task: str, file: Path, as_json: bool, timeout: float, unsafe_no_isolation: bool) -> None:
    """Check FILE, a Coq proof of TASK's statement (e.g. proofs/minif2f-valid/mathd_algebra_10),
    with the proof gate: statement unchanged, Qed/Defined, no axiom beyond the allow-list."""
    settings = Settings()
    catalog = build_catalog(settings)
    try:
        spec = catalog.load(task)
        if spec.workload != "proofs":
            raise TaskError(f"{task} is a {spec.workload} task, not a proof task")
        if "problem" not in spec.params and "statement" not in spec.params:
            raise TaskError(f"{task} is a set of problems; name one, e.g. {task}/<problem>")
        problem = resolve_problem(spec.params, spec.id)
    except TaskError as error:
        raise click.UsageError(str(error)) from None
    try:
        source = file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"cannot read {file}: {error}") from None
    try:
        options = ProofOptions.model_validate(dict(spec.gate_options.get("proof-check", {})))
    except ValidationError as error:
        raise click.UsageError(f"{task}: proof-check options: {error}") from None
    allowed = options.allowed()
    config = LocalSandboxConfig(unsafe_no_isolation=unsafe_no_isolation)
    with tempfile.TemporaryDirectory(prefix="labgate-check-") as scratch, open_sandboxes(config) as sandboxes:
        prover = CoqProver(
            Path(scratch),
            sandboxes,
            CoqConfig(coqc=settings.coqc, args=GATE_COQ_ARGS),
            file_stem="Check",
        )
        try:
            verdict = check_proof(problem, source, prover, allowed_axioms=allowed, timeout=timeout)
        except (ProverUnavailableError, SandboxError) as error:
            raise click.UsageError(str(error)) from None
        finally:
            prover.close()
    if as_json:
        sys.stdout.write(json.dumps(verdict.as_json()) + "\n")
    else:
        console = Console()
        for diagnostic in verdict.diagnostics:
            console.print(f"{file}:{diagnostic.describe()}", highlight=False, markup=False)
        colour = "green" if verdict.decision == "accept" else "red"
        console.print(f"[{colour}]{verdict.decision}[/{colour}] {problem.id}", highlight=False)
        for reason in verdict.reasons:
            console.print(f"  - {reason}", highlight=False, markup=False)
        names = ", ".join(entry.name for entry in verdict.assumptions)
        console.print(f"  axioms: {names or 'none'}", highlight=False, markup=False)
    if verdict.decision != "accept":
        raise SystemExit(1)
