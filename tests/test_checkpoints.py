"""The orchestrator's checkpoint file shared by runs of several processes on one home."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from agents._checkpoint import open_checkpointer, thread_config


def _checkpoint_at(home: str, start_at: float, thread: str) -> str:
    """Open the checkpoints at `home` once the clock reaches `start_at` and run a three-step graph
    through them; the error it gave, or "" (runs in a child process)."""
    from typing import TypedDict

    from langgraph.graph import END, StateGraph

    class Count(TypedDict):
        n: int

    def step(state: Count) -> dict[str, Any]:
        return {"n": state["n"] + 1}

    graph = StateGraph(Count)
    graph.add_node("step", step)
    graph.set_entry_point("step")
    graph.add_conditional_edges("step", lambda state: "step" if state["n"] < 3 else END)
    time.sleep(max(0.0, start_at - time.time()))
    try:
        with open_checkpointer(Path(home)) as saver:
            compiled: Any = graph.compile(checkpointer=saver)
            result = compiled.invoke({"n": 0}, thread_config(thread, 50))
    except Exception as error:  # noqa: BLE001 - the child reports what it met
        return f"{type(error).__name__}: {error}"
    return "" if result["n"] == 3 else f"wrong state {result}"


def test_two_processes_checkpointing_on_one_new_home_at_once_both_succeed(tmp_path: Path) -> None:
    """Two runs starting together on a new home: switching the new file to WAL mode made SQLite answer
    "database is locked" at once to the other process (most pairs failed on this machine)."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(_checkpoint_at, [(str(tmp_path / "warm"), 0.0, "warm")] * 2, 1)  # imports done
        start = time.time() + 0.5
        pairs = [(str(tmp_path / f"home{i}"), start + 0.1 * i) for i in range(24)]
        for home, _ in pairs:
            Path(home).mkdir()
        calls = [(home, at, name) for home, at in pairs for name in ("a", "b")]
        answers = pool.starmap(_checkpoint_at, calls, 1)
    assert [answer for answer in answers if answer] == []
    for home, _ in pairs:
        assert sorted(p.name for p in Path(home).iterdir() if not p.name.startswith(".")) == ["checkpoints.sqlite"]


def test_a_checkpoint_written_by_one_process_is_read_by_the_next(tmp_path: Path) -> None:
    """What `agent resume` relies on: the state is in the file once the writer closed it."""
    assert _checkpoint_at(str(tmp_path), 0.0, "run-1") == ""
    with open_checkpointer(tmp_path) as saver:
        found = saver.get_tuple(thread_config("run-1", 50))
    assert found is not None and found.checkpoint["channel_values"]["n"] == 3
