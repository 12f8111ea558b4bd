"""The orchestrator graph: plan -> dispatch -> gates -> decide -> (dispatch | write).

Dispatch already judges each experiment the moment it finishes; the gates node then collects the
batch's decisions (and judges any experiment a resumed run finished but had not judged).

State holds only JSON-able data (experiment specs, ids, decisions) and is checkpointed after
every node, keyed by run id; the store, workload and sandbox live in the RunContext the nodes
close over. A run killed mid-node resumes by re-entering that node, which is safe because every
side effect is idempotent per experiment key (see agents/_experiments.py).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from agents._checkpoint import open_checkpointer, thread_config
from agents._context import RunContext, interrupt_handled, interrupt_run
from agents._experiments import finish_experiment, judge_experiment, judged_history, prepare_experiment
from agents._head_start import HeadStart
from agents._policy import JudgedExperiment
from agents._proposer import policy_for
from agents.executors import Executor, LocalExecutor
from agents.llm import LLMBudgetExceededError
from runs import ExperimentSpec
from tools import TaskError


class RunState(TypedDict, total=False):
    iteration: int
    queue: list[dict[str, Any]]
    just_ran: list[dict[str, Any]]
    executed: int
    notes: list[str]
    stop_reason: str
    report: str


Outcome = Literal["done", "paused"]


class Orchestrator:
    def __init__(self, context: RunContext, *, executor: Executor | None = None, approve_plan: bool = False) -> None:
        self.context = context
        self.executor = executor or LocalExecutor(max_workers=2)
        self.approve_plan = approve_plan
        self.policy = policy_for(context)
        self._head: HeadStart[RunState] | None = None

    # -- nodes ---------------------------------------------------------------------------------

    def plan(self, state: RunState) -> RunState:
        if self._head is not None:
            return self._head.planned()
        return self._plan(state)

    def dispatch(self, state: RunState) -> RunState:
        if self._head is not None and not self._head.taken:
            return self._head.dispatched()
        return self._dispatch(state)

    def _plan(self, state: RunState) -> RunState:
        context = self.context
        recorded = self._recorded_plan()
        if recorded is not None:
            return recorded
        step = context.store.start_step(context.run_id, "plan")
        planned = context.workload.plan(context.task)
        budget = context.task.budget.experiments
        notes = list(state.get("notes", []))
        if len(planned) > budget:
            notes.append(f"plan has {len(planned)} experiments; the budget allows {budget}, the rest were not run")
            planned = planned[:budget]
        result: RunState = {
            "iteration": 1,
            "queue": [spec.model_dump(mode="json") for spec in planned],
            "executed": 0,
            "notes": notes,
        }
        context.emit(
            "plan",
            f"planned {len(planned)} experiment(s)",
            keys=[spec.key for spec in planned],
            planned=[spec.model_dump(mode="json", include={"key", "params", "rationale"}) for spec in planned],
            state=dict(result),
        )
        assert step.id is not None
        context.store.finish_step(step.id, detail=f"{len(planned)} experiments: " + ", ".join(s.key for s in planned))
        return result

    def _recorded_plan(self) -> RunState | None:
        """The plan this run already made, if its process ended before the graph checkpointed it.

        A new run's first batch starts before the graph exists (agents/_head_start.py), so a process can
        end with experiments started and no checkpoint at all; the resumed run then enters the plan node
        again. Planning anew would record a second plan, and a planner whose answers vary (a language
        model) could plan other experiments than the ones already run: the recorded plan is kept instead."""
        for event in reversed(self.context.store.events(self.context.run_id, kind="plan")):
            kept = event.data.get("state")
            if isinstance(kept, dict) and isinstance(kept.get("queue"), list):
                return RunState(
                    iteration=int(kept.get("iteration", 1)),
                    queue=list(kept["queue"]),
                    executed=int(kept.get("executed", 0)),
                    notes=[str(note) for note in kept.get("notes", [])],
                )
        return None

    def _dispatch(self, state: RunState) -> RunState:
        context = self.context
        context.check_cancelled()
        specs = [ExperimentSpec.model_validate(item) for item in state.get("queue", [])]
        step = context.store.start_step(context.run_id, "dispatch", f"iteration {state.get('iteration', 1)}")
        prepared = [item for spec in specs if (item := prepare_experiment(context, spec)) is not None]
        executor = self.executor
        for item, outcome in executor.stream(context, prepared):
            finish_experiment(context, item, outcome)
            if context.cancelled():
                executor.cancel()
                context.check_cancelled()
            # Judged as soon as it ends, while the others still run: a sweep's gates (a refined-mesh
            # rerun, figures) no longer queue up behind its slowest case. The gates node finds the
            # stored verdicts and judges only what was not judged here (a resumed run).
            judge_experiment(context, item.spec, item.experiment_id)
        assert step.id is not None
        context.store.finish_step(
            step.id, detail=f"ran {len(prepared)} experiment(s) with the {executor.name} executor"
        )
        entries = []
        for spec in specs:
            row = context.store.find_experiment(context.run_id, spec.key)
            assert row is not None
            entries.append({"key": spec.key, "experiment_id": row.id, "spec": spec.model_dump(mode="json")})
        return {"queue": [], "just_ran": entries, "executed": state.get("executed", 0) + len(specs)}

    def gates(self, state: RunState) -> RunState:
        context = self.context
        step = context.store.start_step(context.run_id, "gates")
        just_ran = []
        for entry in state.get("just_ran", []):
            spec = ExperimentSpec.model_validate(entry["spec"])
            decision, _ = judge_experiment(context, spec, int(entry["experiment_id"]))
            just_ran.append({**entry, "decision": decision})
        assert step.id is not None
        context.store.finish_step(step.id, detail=", ".join(f"{e['spec']['key']}: {e['decision']}" for e in just_ran))
        return {"just_ran": just_ran}

    def decide(self, state: RunState) -> RunState:
        context = self.context
        budget = context.task.budget
        executed = state.get("executed", 0)
        iteration = state.get("iteration", 1)
        notes = list(state.get("notes", []))
        history = judged_history(context)
        by_key = {item.spec.key: item for item in history}
        batch = [by_key[entry["spec"]["key"]] for entry in state.get("just_ran", []) if entry["spec"]["key"] in by_key]
        wanting = [item for item in batch if item.decision in ("rerun", "revise")]
        limits = [
            (executed >= budget.experiments, "the experiment budget is spent"),
            (iteration >= budget.iterations, "the iteration budget is spent"),
            (context.remaining_seconds() <= 0, "the wall-clock budget is spent"),
        ]
        for hit, why in limits:
            if hit:
                notes += [f"{item.spec.key}: {item.decision} requested, but {why}" for item in wanting]
                return {"queue": [], "notes": notes, "stop_reason": why if wanting else ""}
        try:
            proposals = self.policy.revise(batch, history)
        except LLMBudgetExceededError as error:
            notes.append(f"stopped early: {error}")
            context.emit("budget", str(error))
            return {"queue": [], "notes": notes, "stop_reason": str(error)}
        proposals = self._revisions_only(proposals, history, notes)
        room = budget.experiments - executed
        if len(proposals) > room:
            notes.append(f"{len(proposals) - room} proposed experiment(s) not run: the experiment budget is spent")
            proposals = proposals[:room]
        proposed_bases = {p.parent_key for p in proposals}
        for item in wanting:
            if (item.spec.parent_key or item.spec.key) not in proposed_bases:
                notes.append(f"{item.spec.key}: {item.decision} requested, but the policy proposed nothing more")
        for proposal in proposals:
            context.emit("revise", f"{proposal.key}: {proposal.rationale}", key=proposal.key)
        queue = [proposal.model_dump(mode="json") for proposal in proposals]
        return {"queue": queue, "iteration": iteration + (1 if queue else 0), "notes": notes}

    def _revisions_only(
        self, proposals: list[ExperimentSpec], history: list[JudgedExperiment], notes: list[str]
    ) -> list[ExperimentSpec]:
        """The proposals that rerun an experiment (`parent_key`) and answer its question; the others are noted.

        Checked here, whatever policy proposed them (an LLM's, a search's fallback, a workload's numerics
        variant): a rerun is accepted and reported in place of the experiment it revises, so one that
        changed what it asks (another Reynolds number) or made a gate's check easier answered nothing.
        """
        context = self.context
        latest = {item.spec.parent_key or item.spec.key: item.spec for item in history}
        kept = []
        for proposal in proposals:
            try:
                if proposal.parent_key is not None:
                    revised = latest.get(proposal.parent_key)
                    if revised is None:
                        raise TaskError(f"it revises {proposal.parent_key}, which this run has not judged")
                    context.workload.validate_revision(context.task, revised, proposal.params)
            except TaskError as error:
                notes.append(f"{proposal.key}: not run: {error}")
                context.emit("revise", f"{proposal.key}: refused: {error}", key=proposal.key)
                continue
            kept.append(proposal)
        return kept

    def write(self, state: RunState) -> RunState:
        context = self.context
        step = context.store.start_step(context.run_id, "write-up")
        # A token budget spent inside an experiment (a proof search) is a note like one spent by the policy.
        spent = [e.message for e in context.store.events(context.run_id, kind="budget") if e.data.get("experiment")]
        from agents._writer import write_report  # markdown-it and the prose checks: needed only now

        report = write_report(context, notes=[*state.get("notes", []), *(f"stopped early: {m}" for m in spent)])
        assert step.id is not None
        # Relative to the run directory: step details are shown by the API, which never names server paths.
        context.store.finish_step(step.id, detail=report.name if report.parent == context.run_dir else str(report))
        return {"report": str(report)}

    # -- wiring --------------------------------------------------------------------------------

    @staticmethod
    def route_after_decide(state: RunState) -> str:
        return "dispatch" if state.get("queue") else "write"

    def build(self, checkpointer: Any = None) -> Any:
        from langgraph.graph import END, START, StateGraph  # heavy; only a running orchestrator needs it

        graph = StateGraph(RunState)
        graph.add_node("plan", self.plan)
        graph.add_node("dispatch", self.dispatch)
        graph.add_node("gates", self.gates)
        graph.add_node("decide", self.decide)
        graph.add_node("write", self.write)
        graph.add_edge(START, "plan")
        graph.add_edge("plan", "dispatch")
        graph.add_edge("dispatch", "gates")
        graph.add_edge("gates", "decide")
        graph.add_conditional_edges("decide", self.route_after_decide, {"dispatch": "dispatch", "write": "write"})
        graph.add_edge("write", END)
        interrupts = ["plan"] if self.approve_plan else []
        return graph.compile(checkpointer=checkpointer, interrupt_after=interrupts)

    def run(self, *, resume: bool = False) -> tuple[Outcome, RunState]:
        """Run (or continue) the graph; 'paused' when it stopped to wait for plan approval."""
        context = self.context
        limit = 12 + 4 * context.task.budget.iterations
        config = thread_config(context.run_id, limit)
        if not resume and not self.approve_plan:
            self._head = HeadStart(self._plan, self._dispatch, RunState()).start()
        try:
            return self._run_graph(config, resume=resume)
        finally:
            if self._head is not None:
                self._abandon_head_start(self._head)
                self._head = None

    def _abandon_head_start(self, head: HeadStart[RunState]) -> None:
        """Building the graph failed while the first batch ran: stop it as an interrupt would, and wait."""
        run_id = self.context.run_id
        interrupted_already = self.context.interrupted()
        head.abandon(
            stop=lambda: interrupt_run(run_id),
            release=lambda: None if interrupted_already else interrupt_handled(run_id),
        )

    def _run_graph(self, config: Any, *, resume: bool) -> tuple[Outcome, RunState]:
        context = self.context
        with open_checkpointer(context.store.home) as saver:
            graph = self.build(saver)
            existing = graph.get_state(config)
            start: RunState | None = None if (resume and existing.next) else {}
            if resume and not existing.next and existing.values.get("report"):
                return "done", existing.values  # already written: nothing left to do
            # "sync": each checkpoint is on disk before the next node starts, so a run killed
            # mid-experiment resumes after its last finished node rather than from the start.
            graph.invoke(start, config=config, durability="sync")
            snapshot = graph.get_state(config)
            if snapshot.next:
                return "paused", snapshot.values
            return "done", snapshot.values
