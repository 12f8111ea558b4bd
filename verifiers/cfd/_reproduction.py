"""The reproduction gate: a case someone ran elsewhere counts only as labgate's own re-run of it computes it.

`agent check` adopts a case with its results: a solver log and fields the user's machine wrote, or anyone
wrote. Judged as they stand, a two-line log with invented residuals beside fields of random noise (kept right
only along the cavity's centrelines, where the comparator reads) was accepted; so was a real run whose log
had its Courant numbers scaled below the limit, a run stopped after ten steps whose residuals were edited
down, and a pressure written by hand beside a reproduced velocity. So every adopted CFD result first goes
through this gate (`CfdWorkload.adoption_gates`), which needs a run (without `--rerun` it is skipped, and the
decision is at most "inconclusive"):
- the case is re-run as given, in labgate's sandbox, into `reproduce/` (`verifiers.cfd._same_case`);
- that run's own log is judged by the solver-log gate with the task's options: its residuals, Courant
  numbers and continuity are the solver's, not a file's;
- every volume field of the folder's latest time must be one the re-run writes, and equal to it cell by cell
  (`REPRODUCED`).
The other gates then judge the re-run, not the folder (`GateContext.stand_in`): reproduced within the
solvers' tolerance, the folder's fields may still differ from the re-run's by that much, and which way is
the user's choice. Fields nudged toward the reference only where the comparator reads, each cell by at most
3 % of the field's RMS, reproduced within tolerance and turned a "revise" into an "accept".
"""

from __future__ import annotations

from runs import GateResult
from verifiers._gate import Gate, GateContext, StandIn
from verifiers._options import GateOptions
from verifiers.cfd._family import case_family
from verifiers.cfd._same_case import REPRODUCED, reproduce
from verifiers.cfd._solver_log import SolverLogGate, SolverLogOptions


class ReproductionOptions(GateOptions):
    """No options: what counts as reproduced is `REPRODUCED`, and the log is judged with the solver-log gate's."""


class ReproductionGate(Gate):
    """Re-runs an adopted case as given and accepts its results only as that run's (see the module doc)."""

    name = "reproduction"
    Options = ReproductionOptions
    needs_run = True

    def check(self, context: GateContext) -> GateResult:
        if not context.outcome.info.get("adopted"):
            return self.verdict("accept", ["computed by labgate itself: nothing to reproduce"])
        definition = case_family(context)
        if isinstance(definition, str):
            return self.verdict("reject", [definition])
        if context.rerun is None:
            return self.verdict("reject", ["a result brought from elsewhere needs a new run, and none is allowed here"])
        found = reproduce(context, definition)
        assert found is not None  # adopted, with a run allowed: `reproduce` runs the case
        metrics = {"reproduction_change": found.change}
        if found.problem is not None:
            return self.verdict("reject", [found.problem], metrics=metrics)
        log = self._solver_log(context).check(
            GateContext(
                task=context.task,
                experiment=found.spec,
                directory=found.directory,
                outcome=found.outcome,
                sandbox_factory=context.sandbox_factory,
            )
        )
        if log.decision != "accept":
            return self.verdict(
                log.decision,
                [f"the case re-run as given, judged by its own solver log: {reason}" for reason in log.reasons],
                metrics=metrics,
            )
        context.stand_in = StandIn(found.spec, found.directory, found.outcome)
        return self.verdict(
            "accept",
            [
                f"re-run as given, the case computes the folder's results: {', '.join(found.fields)} within "
                f"{100 * REPRODUCED:g} % RMS cell by cell (largest {100 * found.change:.3g} %); its own solver log "
                "passes the solver-log gate; the other gates judge the re-run's results"
            ],
            metrics=metrics,
        )

    def _solver_log(self, context: GateContext) -> SolverLogGate:
        """The solver-log gate as the task configures it (its defaults when the task does not list it)."""
        options = context.task.gate_options.get(SolverLogGate.name, {})
        return SolverLogGate(SolverLogOptions.model_validate(dict(options)), self.workload)
