"""The orchestrator graph: plan -> dispatch -> gates -> decide -> (dispatch | write).

State holds only JSON-able data (experiment specs, ids, decisions) so that a checkpointer can
persist it; the store, workload and sandbox live in the RunContext the nodes close over.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

from agents._context import RunContext
from agents._experiments import execute_experiment, judge_experiment
from agents._policy import BuiltinRevisionPolicy
from agents._writer import write_report
from runs import ExperimentSpec


class RunState(TypedDict, total=False):
    iteration: int
    queue: list[dict[str, Any]]
    just_ran: list[dict[str, Any]]
    decisions: dict[str, str]
    executed: int
    notes: list[str]
    report: str


class Orchestrator:
    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.policy = BuiltinRevisionPolicy(context.workload)

    # -- nodes ---------------------------------------------------------------------------------

    def plan(self, state: RunState) -> RunState:
        context = self.context
        step = context.store.start_step(context.run_id, "plan")
        planned = context.workload.plan(context.task)
        budget = context.task.budget.experiments
        notes = list(state.get("notes", []))
        if len(planned) > budget:
            notes.append(f"plan has {len(planned)} experiments; the budget allows {budget}, the rest were not run")
            planned = planned[:budget]
        planned += self.policy.explore(context, budget - len(planned))
        context.emit("plan", f"planned {len(planned)} experiment(s)", keys=[spec.key for spec in planned])
        assert step.id is not None
        context.store.finish_step(step.id, detail=f"{len(planned)} experiments: " + ", ".join(s.key for s in planned))
        return {
            "iteration": 1,
            "queue": [spec.model_dump(mode="json") for spec in planned],
            "decisions": {},
            "executed": 0,
            "notes": notes,
        }

    def dispatch(self, state: RunState) -> RunState:
        context = self.context
        context.check_cancelled()
        specs = [ExperimentSpec.model_validate(item) for item in state.get("queue", [])]
        step = context.store.start_step(context.run_id, "dispatch", f"iteration {state.get('iteration', 1)}")
        workers = max(1, min(context.max_workers, len(specs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="experiment") as pool:
            ran = list(pool.map(lambda spec: execute_experiment(context, spec), specs))
        assert step.id is not None
        context.store.finish_step(step.id, detail=f"ran {len(ran)} experiment(s)")
        entries = [{**entry, "spec": spec.model_dump(mode="json")} for entry, spec in zip(ran, specs, strict=True)]
        return {"queue": [], "just_ran": entries, "executed": state.get("executed", 0) + len(specs)}

    def gates(self, state: RunState) -> RunState:
        context = self.context
        step = context.store.start_step(context.run_id, "gates")
        decisions = dict(state.get("decisions", {}))
        just_ran = []
        for entry in state.get("just_ran", []):
            spec = ExperimentSpec.model_validate(entry["spec"])
            decision, _ = judge_experiment(context, spec, int(entry["experiment_id"]))
            decisions[spec.key] = decision
            just_ran.append({**entry, "decision": decision})
        assert step.id is not None
        context.store.finish_step(step.id, detail=", ".join(f"{e['spec']['key']}: {e['decision']}" for e in just_ran))
        return {"decisions": decisions, "just_ran": just_ran}

    def decide(self, state: RunState) -> RunState:
        context = self.context
        budget = context.task.budget
        executed = state.get("executed", 0)
        iteration = state.get("iteration", 1)
        notes = list(state.get("notes", []))
        queue: list[dict[str, Any]] = []
        for entry in state.get("just_ran", []):
            if entry["decision"] in ("accept", "reject"):
                continue
            spec = ExperimentSpec.model_validate(entry["spec"])
            verdicts = judge_experiment(context, spec, int(entry["experiment_id"]))[1]
            proposal = self.policy.propose(spec, verdicts)
            if proposal is None:
                notes.append(
                    f"{spec.key}: {entry['decision']} requested, but the built-in policy has no variant to try"
                )
                continue
            if executed + len(queue) >= budget.experiments:
                notes.append(f"{spec.key}: {entry['decision']} requested, but the experiment budget is spent")
                continue
            if iteration >= budget.iterations:
                notes.append(f"{spec.key}: {entry['decision']} requested, but the iteration budget is spent")
                continue
            if context.remaining_seconds() <= 0:
                notes.append(f"{spec.key}: {entry['decision']} requested, but the wall-clock budget is spent")
                continue
            context.emit("revise", f"{proposal.key}: {proposal.rationale}", key=proposal.key)
            queue.append(proposal.model_dump(mode="json"))
        if iteration < budget.iterations and context.remaining_seconds() > 0:
            for proposal in self.policy.explore(context, budget.experiments - executed - len(queue)):
                context.emit("revise", f"{proposal.key}: {proposal.rationale}", key=proposal.key)
                queue.append(proposal.model_dump(mode="json"))
        return {"queue": queue, "iteration": iteration + (1 if queue else 0), "notes": notes}

    def write(self, state: RunState) -> RunState:
        context = self.context
        step = context.store.start_step(context.run_id, "write-up")
        report = write_report(context, notes=state.get("notes", []))
        assert step.id is not None
        context.store.finish_step(step.id, detail=str(report))
        return {"report": str(report)}

    # -- wiring --------------------------------------------------------------------------------

    @staticmethod
    def route_after_decide(state: RunState) -> str:
        return "dispatch" if state.get("queue") else "write"

    def build(self) -> Any:
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
        return graph.compile()

    def run(self) -> RunState:
        iterations = self.context.task.budget.iterations
        result: RunState = self.build().invoke({}, config={"recursion_limit": 10 + 4 * iterations})
        return result
