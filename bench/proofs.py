"""Solve rate of the built-in prover strategy on miniF2F (Coq), and prover throughput.

Solve rate: every usable problem of each split runs through the orchestrator exactly as
`agent run proofs/minif2f-<split>` does (one experiment per problem, `--workers` in parallel, the
built-in proposer under a fixed per-problem budget of prover runs and seconds); a problem counts as
solved only when the proof gate accepted it. Arms:
  builtin       the built-in proposer: automation plus proof skeletons, persistent session, no proof memory
  memory        the same, first trying the proof memory's scripts for similar goals, and at each step the
                tactics that closed the most similar goals of stored proofs (the step memory)
  builtin-coqc  `builtin` with one coqc process per prover run
  builtin-nolibrary  `builtin` without the library-lemma step (`Search` for a goal automation cannot close)
  builtin-nopool  `builtin` with one coqidetop session per problem (no session kept across problems)
  builtin-without:NAME[+NAME]  `builtin` without those skeletons (a new skeleton against the tree before it)
  automation    the automation sweep alone, on the goal as stated and after `intros` (the literature's
                baseline of an automation-only sweep)
Proof memory: every arm records the proofs the gate accepted in one memory (a fresh one per bench
unless `--memory DIR` names one). The `memory` arm evaluating split S never reads S's entries
(exclude_splits=S): splits run in the order given, so with the default `valid,test` it trains on
valid and tests on test; on valid it can only read test entries of an earlier bench (`--memory`).
Reports the solve rate per problem family (mathd, amc, aime, imo, induction, algebra, other) and
split, the arms side by side, and prover checks per second. `--quick N` takes N usable problems per
family and split (a spread within each family) so that a run takes minutes.
Throughput (`--throughput`): the same attempts checked by one coqc process each, by one persistent
coqidetop session per problem, and by a session from the pool the search uses (kept across problems,
rolled back to its empty state between them), interleaved, as attempts per second, next to one
coqtop per problem running the header once and every attempt after it (Coq's own time, no
protocol), one session kept across all problems and never rolled back, the share of the session's
time spent on coqidetop itself, and the machine's load average.
Prints per-split numbers and, last, one JSON line.

Usage:
  .venv/bin/python bench/proofs.py [--splits valid,test] [--seconds 60] [--attempts 48] [--workers 2]
                                   [--arms builtin,memory,automation] [--memory DIR]
                                   [--quick N | --limit N | --every K [--offset J]] [--out rows.jsonl]
  .venv/bin/python bench/proofs.py --throughput [--problems 12]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agents import RunLauncher, RunOptions  # noqa: E402
from agents.proof_search import EXCLUDE_ENV, MEMORY_ENV, RETRIEVE_ENV, ProofMemory, SplitFilter  # noqa: E402
from agents.proof_search._proposer import SKELETONS  # noqa: E402
from runs import RunStore  # noqa: E402
from sandboxes import Sandbox  # noqa: E402
from tools import Catalog  # noqa: E402
from tools.proofs import ProofsWorkload, Prover, exclusion_reason, load_split, split_sentences  # noqa: E402
from tools.proofs._session import POOL_ENV, SESSIONS  # noqa: E402

ANCHORS = {
    "automation-only sweep, test (issue anchor)": 0.23,
    "Isabelle Sledgehammer + heuristics, test (literature)": 0.209,
    "Lyra with GPT-4, test (literature)": 0.512,
}


FAMILIES = ("mathd", "amc", "aime", "imo", "induction", "algebra", "other")


def family(name: str) -> str:
    """The miniF2F family of a problem, from its name (`amc12a_...` is amc, `imosl_...` is imo)."""
    head = name.split("_", 1)[0]
    for prefix in FAMILIES[:-1]:
        if head.startswith(prefix):
            return prefix
    return "other"


def quick_sample(split: str, per_family: int) -> list[str]:
    """`per_family` usable problems of each family, spread evenly over the family's sorted names."""
    usable = [p.name for p in load_split(split) if exclusion_reason(split, p.name) is None]
    chosen: list[str] = []
    for name in FAMILIES:
        members = [problem for problem in usable if family(problem) == name]
        if not members:
            continue
        step = max(1, len(members) // per_family)
        chosen += members[::step][:per_family]
    return chosen


def named_problems(split: str, names: str) -> list[str]:
    """The usable problems of `split` among the comma-separated `names`; an unknown or excluded name is an error."""
    known = {p.name for p in load_split(split)}
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise SystemExit(f"bench/proofs.py: not {split} problems: {', '.join(unknown)}")
    excluded = [name for name in chosen if exclusion_reason(split, name) is not None]
    if excluded:
        raise SystemExit(f"bench/proofs.py: excluded on this Coq: {', '.join(excluded)}")
    return chosen


def memory_environment(arm: str, split: str, memory: Path) -> dict[str, str]:
    """The proof memory's settings for one arm on one split: recorded always, read only by `memory`,
    and then never from the split under evaluation; and the session pool, off only for `builtin-nopool`."""
    settings = {MEMORY_ENV: str(memory), RETRIEVE_ENV: "on" if arm == "memory" else "off", EXCLUDE_ENV: ""}
    settings[POOL_ENV] = "off" if arm == "builtin-nopool" else "on"
    if arm == "memory":
        settings[EXCLUDE_ENV] = split
    return settings


def run_split(split: str, arm: str, args: argparse.Namespace, home: Path) -> dict[str, Any]:
    """One orchestrated run over a split; per-problem rows from the store."""
    settings = memory_environment(arm, split, args.memory)
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        return _run_split(split, arm, args, home)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_split(split: str, arm: str, args: argparse.Namespace, home: Path) -> dict[str, Any]:
    memory = ProofMemory(args.memory)
    readable = memory.entries(SplitFilter(exclude=frozenset({split}))) if arm == "memory" else []
    catalog = Catalog([ProofsWorkload()])
    launcher = RunLauncher(RunStore(home), catalog)
    task = catalog.get(f"proofs/minif2f-{split}")
    task.params.update({"seconds": args.seconds, "attempts": args.attempts})
    if arm == "automation":
        task.params["skeletons"] = "automation,intros"
    if arm.endswith("-coqc"):
        task.params["backend"] = "coqc"
    if arm == "builtin-nolibrary":
        task.params["library"] = False
    if arm.startswith("builtin-without:"):
        left_out = set(arm.split(":", 1)[1].split("+"))
        task.params["skeletons"] = ",".join(name for name, _ in SKELETONS if name not in left_out)
    if args.limit:
        task.params["limit"] = args.limit
    if args.names:
        task.sweep["problem"] = named_problems(split, args.names)
    elif args.quick:
        task.sweep["problem"] = quick_sample(split, args.quick)
    elif args.every > 1:
        names = [p.name for p in load_split(split) if exclusion_reason(split, p.name) is None]
        task.sweep["problem"] = names[args.offset :: args.every]
    started = time.monotonic()
    pooled = (SESSIONS.counts.started, SESSIONS.counts.reused)
    run_id = launcher.submit(task, RunOptions(max_workers=args.workers))
    summary = launcher.execute(run_id)
    wall = time.monotonic() - started
    sessions = {"started": SESSIONS.counts.started - pooled[0], "reused": SESSIONS.counts.reused - pooled[1]}
    store = launcher.store
    rows = []
    for experiment in store.experiments(run_id):
        metrics = experiment.metrics or {}
        info = (experiment.outcome or {}).get("info", {})
        rows.append(
            {
                "split": split,
                "arm": arm,
                "problem": experiment.key,
                "family": family(experiment.key),
                "accepted": experiment.decision == "accept",
                "search_solved": bool(metrics.get("solved")),
                "attempts": metrics.get("attempts", 0.0),
                "seconds": metrics.get("seconds", 0.0),
                "origin": info.get("origin", ""),
                "memory": info.get("memory", ""),
                "recalled_steps_won": int((info.get("step_memory") or {}).get("closed_by_recalled", 0)),
            }
        )
    usable = sum(1 for problem in load_split(split) if exclusion_reason(split, problem.name) is None)
    total = len(load_split(split))
    planned = len(rows)
    solved = sum(1 for row in rows if row["accepted"])
    attempts = sum(row["attempts"] for row in rows)
    seconds = sum(row["seconds"] for row in rows)
    families = {
        name: {
            "planned": sum(1 for row in rows if row["family"] == name),
            "solved": sum(1 for row in rows if row["family"] == name and row["accepted"]),
        }
        for name in FAMILIES
    }
    return {
        "split": split,
        "arm": arm,
        "run_id": run_id,
        "status": summary.status,
        "planned": planned,
        "usable": usable,
        "total": total,
        "solved": solved,
        "rate_planned": solved / planned if planned else 0.0,
        "rate_of_total": solved / total if planned == usable else None,
        "attempts_per_second": attempts / seconds if seconds else 0.0,
        "families": families,
        "memory_read": (
            f"{len(readable)} entries of splits {', '.join(sorted({e.split for e in readable})) or '(none)'}; "
            f"{split} excluded"
            if arm == "memory"
            else "not read"
        ),
        "solved_by_memory": sum(1 for row in rows if row["accepted"] and str(row["origin"]).startswith("memory:")),
        "steps_readable": len(memory.step_rows(SplitFilter(exclude=frozenset({split})))) if arm == "memory" else 0,
        "solved_with_recalled_step": sum(1 for row in rows if row["accepted"] and row["recalled_steps_won"]),
        "median_seconds_solved": statistics.median([r["seconds"] for r in rows if r["accepted"]]) if solved else None,
        "wall_seconds": round(wall, 1),
        "pooled_sessions": sessions,
        "rows": rows,
    }


ATTEMPT_TACTICS = ("lia", "nia", "lra", "nra", "ring", "field", "auto", "congruence", "reflexivity", "easy")
STATEMENT_WORDS = ("Theorem", "Lemma", "Example", "Corollary", "Proposition", "Fact", "Remark", "Goal")


def floor_script(sources: list[str]) -> str:
    """One coqtop input that runs every attempt after a single copy of their shared header.

    Each attempt sits in a module of its own (so that its theorem name is free again) and ends in
    `Abort All.` (so that a failed one leaves no proof open); coqtop reports an error and goes on.
    Its run time is what Coq itself needs for the attempts: one process start, the header's
    libraries once, every tactic and `Qed`, and no protocol at all.
    """
    first = sources[0]
    start = next(
        (s.start for s in split_sentences(first) if s.first_word in STATEMENT_WORDS),
        len(first),
    )
    header = first[:start]
    parts = [header]
    for index, source in enumerate(sources):
        if not source.startswith(header):
            raise ValueError("the attempts do not share one header")
        parts.append(f"\nModule Attempt{index}.\n{source[start:]}\nAbort All.\nEnd Attempt{index}.\n")
    return "".join(parts)


def coq_floor(sources: list[str], sandbox: Sandbox, timeout: float) -> float:
    """Seconds one sandboxed `coqtop` takes to run `floor_script(sources)`: the floor for any session."""
    coqtop = shutil.which("coqtop")
    if coqtop is None:
        raise SystemExit("coqtop not found; it comes with Debian's 'coq' package")
    started = time.perf_counter()
    sandbox.exec([coqtop, "-q"], timeout=timeout, input=floor_script(sources).encode())
    return time.perf_counter() - started


def throughput(problems: int, seed: int) -> dict[str, Any]:
    """Attempts per second: each attempt a whole file (header, statement, `intros. <tactic>.`) checked by
    coqc in a fresh process versus by one coqidetop session per problem versus a session leased from a
    `SessionPool` per problem (what the search does: the session is kept and rolled back between
    problems; the rollback is counted in the pool's time); same attempts, the three arms' order rotated
    from problem to problem.

    Also measured, after each problem: one coqtop running the header once and every attempt after it
    (Coq's own time for the attempts, no protocol), and one session kept across all problems (what a
    search gains by reusing its session: Coq keeps the libraries it read). `session_coq_share` is the
    part of the session's time spent on coqidetop itself; `session_later_per_second` leaves out the
    first check of each problem (process start and header), as a long search on one problem sees it.
    The load average is printed because on a shared machine every rate moves with it.
    """
    import random

    from sandboxes import LocalSandboxConfig, get_sandbox
    from tools.proofs import CoqProver, CoqSession
    from tools.proofs._session import SessionPool

    usable = [p for p in load_split("valid") if exclusion_reason("valid", p.name) is None]
    chosen = random.Random(seed).sample(usable, min(problems, len(usable)))
    config = LocalSandboxConfig()

    def local(workdir: Path, *, ro_paths: Sequence[Path] = ()) -> Sandbox:
        return get_sandbox(config, workdir, ro_paths=tuple(ro_paths))

    totals = {"coqc": 0.0, "session": 0.0, "pool": 0.0, "coqtop": 0.0, "shared": 0.0}
    agree = {"session": 0, "pool": 0, "shared": 0}
    attempts = 0
    restarts = 0
    coq_seconds = 0.0
    later = 0.0  # the session's checks after the first of each problem (header already loaded)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="labgate-bench-throughput-") as scratch:
        shared = CoqSession(Path(scratch) / "shared", local)
        pool = SessionPool(idle_seconds=600.0)
        for index, problem in enumerate(chosen):
            sources = [problem.theorem_file(f"Proof.\n  intros.\n  {tactic}.\nQed.") for tactic in ATTEMPT_TACTICS]
            coqc = CoqProver(Path(scratch) / f"c{index}", local)
            session = CoqSession(Path(scratch) / f"s{index}", local)
            leased = pool.lease(
                Path(scratch) / f"p{index}" / "prover", local, scope=Path(scratch), source_hint=problem.theorem_file("")
            )
            arms: list[tuple[str, Prover]] = [("coqc", coqc), ("session", session), ("pool", leased)]
            arms = arms[index % 3 :] + arms[: index % 3]
            arms.append(("shared", shared))
            outcomes: dict[str, list[bool]] = {}
            for name, prover in arms:
                started = time.perf_counter()
                outcomes[name] = [prover.check(source, timeout=60).ok for source in sources[:1]]
                opened = time.perf_counter()
                outcomes[name] += [prover.check(source, timeout=60).ok for source in sources[1:]]
                totals[name] += time.perf_counter() - started
                if name == "session":
                    later += time.perf_counter() - opened
            restarts += session.restarts
            coq_seconds += session.coq_seconds
            session.close()
            coqc.close()
            started = time.perf_counter()
            leased.close()  # the pool's rollback to the empty state is part of what a problem costs
            totals["pool"] += time.perf_counter() - started
            floor_sandbox = local(Path(scratch) / f"f{index}")
            try:
                totals["coqtop"] += coq_floor(sources, floor_sandbox, timeout=60 * len(sources))
            finally:
                floor_sandbox.close()
            for name in agree:
                agree[name] += sum(a == b for a, b in zip(outcomes["coqc"], outcomes[name], strict=True))
            attempts += len(sources)
        restarts += shared.restarts
        shared.close()
        pool_counts = pool.counts
        pool.close()
    load_after = os.getloadavg()[0]
    rates = {name: attempts / seconds for name, seconds in totals.items()}
    coq_share = coq_seconds / totals["session"]
    steady = (attempts - len(chosen)) / later if later else 0.0
    print(
        f"throughput over {attempts} attempts on {len(chosen)} problems: coqc {rates['coqc']:.2f}/s, "
        f"session {rates['session']:.2f}/s ({100 * coq_share:.0f}% of it waiting on coqidetop; "
        f"{steady:.1f}/s after the first check of each problem), "
        f"session/coqc {rates['session'] / rates['coqc']:.1f}x; pooled sessions (kept across problems, rolled back "
        f"between them) {rates['pool']:.2f}/s ({pool_counts.started} started, {pool_counts.reused} reused), "
        f"pool/session {rates['pool'] / rates['session']:.2f}x; one coqtop per problem {rates['coqtop']:.2f}/s; "
        f"one session for all problems, never rolled back {rates['shared']:.2f}/s; same verdict as coqc: session "
        f"{agree['session']}/{attempts}, pool {agree['pool']}/{attempts}, shared {agree['shared']}/{attempts}; "
        f"session restarts {restarts}; "
        f"load average {load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} cores)"
    )
    return {
        "attempts": attempts,
        "problems": len(chosen),
        "coqc_per_second": round(rates["coqc"], 3),
        "session_per_second": round(rates["session"], 3),
        "session_coq_share": round(coq_share, 3),
        "session_later_per_second": round(steady, 3),
        "pool_per_second": round(rates["pool"], 3),
        "pool_sessions": {"started": pool_counts.started, "reused": pool_counts.reused},
        "pool_agreement": agree["pool"] / attempts if attempts else 0.0,
        "coqtop_per_second": round(rates["coqtop"], 3),
        "shared_session_per_second": round(rates["shared"], 3),
        "ratio": round(rates["session"] / rates["coqc"], 2),
        "agreement": agree["session"] / attempts if attempts else 0.0,
        "shared_agreement": agree["shared"] / attempts if attempts else 0.0,
        "session_restarts": restarts,
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }


def print_families(results: list[dict[str, Any]]) -> None:
    """Solved/planned per family, one row per split, the arms side by side (then checks per second)."""
    arms = list(dict.fromkeys(result["arm"] for result in results))
    print("split family    " + "".join(f"{arm:>16s}" for arm in arms))
    for split in dict.fromkeys(result["split"] for result in results):
        by_arm = {result["arm"]: result for result in results if result["split"] == split}
        for name in (*FAMILIES, "all"):
            cells = []
            for arm in arms:
                result = by_arm.get(arm)
                if result is None:
                    cells.append(f"{'-':>16s}")
                    continue
                counts = (
                    result["families"][name]
                    if name != "all"
                    else {"planned": result["planned"], "solved": result["solved"]}
                )
                if counts["planned"] == 0:
                    cells.append(f"{'-':>16s}")
                    continue
                rate = 100 * counts["solved"] / counts["planned"]
                cells.append(f"{counts['solved']:>4d}/{counts['planned']:<4d}{rate:5.1f}% ")
            print(f"{split:5s} {name:10s}" + "".join(cells))
        print(f"{split:5s} {'checks/s':10s}" + "".join(f"{by_arm[a]['attempts_per_second']:16.2f}" for a in by_arm))


def main() -> int:
    parser = argparse.ArgumentParser(description="miniF2F solve rate and prover throughput")
    parser.add_argument("--splits", default="valid,test")
    parser.add_argument("--arms", default="builtin,memory")
    parser.add_argument("--seconds", type=float, default=60.0, help="per-problem wall-clock budget")
    parser.add_argument("--attempts", type=int, default=48, help="per-problem prover runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="only the first N problems of each split")
    parser.add_argument("--every", type=int, default=1, help="only every k-th usable problem (a spread sample)")
    parser.add_argument("--offset", type=int, default=0, help="with --every: start at this usable problem (0..k-1)")
    parser.add_argument("--quick", type=int, default=0, help="only N usable problems per family and split")
    parser.add_argument(
        "--names", default="", help="only these problems (comma-separated; one split) for targeted before/after runs"
    )
    parser.add_argument(
        "--memory", type=Path, default=None, help="the proof memory to record into and read (default: a fresh one)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write per-problem rows as JSON lines")
    parser.add_argument("--throughput", action="store_true", help="compare coqc-per-attempt with coqidetop")
    parser.add_argument("--problems", type=int, default=12, help="throughput: problems to draw attempts from")
    parser.add_argument("--seed", type=int, default=0, help="throughput: which problems are drawn")
    args = parser.parse_args()
    if not 0 <= args.offset < max(1, args.every):
        parser.error(f"--offset must be between 0 and --every - 1 ({max(1, args.every) - 1})")
    if args.throughput:
        record = throughput(args.problems, args.seed)
        print(json.dumps(record))
        return 0
    if args.quick < 0:
        parser.error("--quick must be a positive number of problems per family")
    results = []
    with tempfile.TemporaryDirectory(prefix="labgate-bench-proofs-") as scratch:
        if args.memory is None:
            args.memory = Path(scratch) / "proof-memory"
        for split in args.splits.split(","):
            for arm in args.arms.split(","):
                result = run_split(split, arm, args, Path(scratch) / f"{split}-{arm}")
                results.append(result)
                if result["planned"] == result["usable"]:
                    share = (
                        f"{100 * result['rate_planned']:.1f}% of usable, "
                        f"{100 * result['rate_of_total']:.1f}% of {result['total']}"
                    )
                else:  # a sample: only its own rate means anything
                    share = f"{100 * result['rate_planned']:.1f}% of a sample of {result['planned']} usable"
                print(
                    f"{split:5s} {arm:10s} solved {result['solved']}/{result['planned']} ({share}), "
                    f"{result['attempts_per_second']:.2f} checks/s per search, wall {result['wall_seconds']:.0f} s, "
                    f"pooled sessions started {result['pooled_sessions']['started']}, "
                    f"reused {result['pooled_sessions']['reused']}; "
                    f"proof memory {result['memory_read']}, solved from memory {result['solved_by_memory']}, "
                    f"closing steps readable {result['steps_readable']}, "
                    f"solved with a recalled step {result['solved_with_recalled_step']}",
                    flush=True,
                )
                if args.out:
                    with args.out.open("a") as handle:
                        for row in result["rows"]:
                            handle.write(json.dumps(row) + "\n")
    print_families(results)
    for name, value in ANCHORS.items():
        print(f"anchor: {name}: {100 * value:.1f}%")
    summary = {
        "budget": {"seconds": args.seconds, "attempts": args.attempts, "workers": args.workers},
        "results": [{key: value for key, value in result.items() if key != "rows"} for result in results],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
