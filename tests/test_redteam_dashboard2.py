"""A red-team pass on the dashboard and the archive: stored run content that made pages fail or cost far more
than the content itself.

A plot whose points all shared one x at 2**53 (or one fitness of 5e-324) divided by zero: a 500 for the run and
compare pages. Two sources of 40,000 lines took 5 s to diff per page view (difflib is quadratic). A search log of
80,000 tiny lines made a 28 MB run page. An artifact damaged in the store broke a run's archive off after its
200. And 4,000 artifacts of one name made the archive's naming quadratic.
"""

from __future__ import annotations

import html
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api._app import create_app
from api._settings import Settings
from api.rest._routes_archive import _unique
from api.web._render import DIFF_LINES, diff_html, line_plot
from runs import ExperimentSpec, RunStore, TaskSpec

TASK = TaskSpec(id="kernels/x", workload="cfd", params={"case": "cavity"})


@pytest.fixture
def served(home: Path) -> Iterator[tuple[RunStore, TestClient]]:
    app = create_app(Settings(home=home, run_workers=0), start_workers=False)
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        store: RunStore = app.state.labgate.store
        yield store, client
        store.engine.dispose()


@pytest.mark.parametrize(
    "points",
    [
        [(2.0**53, 1.0)],
        [(1.0, 5e-324), (2.0, 5e-324)],
        [(1e17, 1.0), (1e17, 2.0)],
        [(1.7e308, 1.0)],
        [(1.0, -1.7e308), (2.0, -1.7e308)],
    ],
)
def test_a_plot_of_points_on_one_line_is_drawn(points: list[tuple[float, float]]) -> None:
    svg = str(line_plot([("values", points)], title="t", x_label="x", y_label="y"))
    assert svg.startswith("<svg") and "nan" not in svg and "inf" not in svg


def test_a_diff_of_long_sources_compares_their_first_lines_only() -> None:
    before = "\n".join(f"line {i % 150}" for i in range(40_000))
    after = "\n".join(f"line {(i * 7) % 150}" for i in range(40_000))
    started = time.monotonic()
    shown = str(diff_html(before, after, "seed", "best"))
    assert time.monotonic() - started < 3
    assert f"only the first {DIFF_LINES} lines of each side were compared" in shown


def test_many_artifacts_of_one_name_are_named_in_linear_time() -> None:
    taken: set[str] = set()
    counters: dict[str, int] = {}
    started = time.monotonic()
    names = [_unique("artifacts/base/candidate.cl", taken, counters) for _ in range(20_000)]
    assert time.monotonic() - started < 2
    assert len(set(names)) == 20_000 and names[1] == "artifacts/base/candidate-2.cl"


def test_an_archive_leaves_out_and_names_an_artifact_damaged_in_the_store(
    served: tuple[RunStore, TestClient],
) -> None:
    store, client = served
    run = store.create_run(TASK)
    experiment = store.add_experiment(run.id, ExperimentSpec(key="base", task_id=TASK.id, params={}))
    store.add_artifact_bytes(run.id, b"good\n" * 100, kind="data", name="a.txt", experiment_id=experiment.id)
    damaged = store.add_artifact_bytes(run.id, b"bad!\n" * 100, kind="data", name="b.txt", experiment_id=experiment.id)
    path = store.artifacts.path_for(damaged.sha256)
    path.chmod(0o644)
    path.write_bytes(b"BAD!\n" * 100)  # the same size: only its digest tells
    archived = client.get(f"/runs/{run.id}/archive")
    assert archived.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archived.content)) as archive:
        assert archive.testzip() is None
        assert not any(name.endswith("b.txt") for name in archive.namelist())
        readme = archive.read("README.txt").decode()
    assert f"{damaged.sha256}  (damaged in the store: left out)" in readme


def test_a_search_log_of_many_lines_makes_a_page_of_bounded_size(served: tuple[RunStore, TestClient]) -> None:
    store, client = served
    run = store.create_run(TASK)
    experiment = store.add_experiment(run.id, ExperimentSpec(key="base", task_id=TASK.id, params={}))
    lines = "\n".join(f'{{"fitness":{i % 7}}}' for i in range(20_000)).encode()
    store.add_artifact_bytes(run.id, lines, kind="log", name="search.jsonl", experiment_id=experiment.id)
    page = client.get(f"/ui/runs/{run.id}")
    assert page.status_code == 200
    assert len(page.content) < 2_000_000, len(page.content)
    assert "more in the search log" in page.text


def test_a_long_run_of_blanks_never_reaches_the_lexer_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The C lexers' cost grows with the square of a blank run's length: a kernel seed of 12,000 spaces after
    a type name kept the server's thread (and every other request) for minutes when its run page was opened."""
    from pygments.lexers import CLexer

    from api.web import _render

    seen: list[int] = []
    original = CLexer.get_tokens

    def measured(self: CLexer, text: str, unfiltered: bool = False) -> Any:
        seen.append(max((len(run) for run in re.findall(r"\s+", text)), default=0))
        return original(self, text, unfiltered)

    monkeypatch.setattr(CLexer, "get_tokens", measured)
    seed = "__kernel void k(__global float* x) {\n    float" + " " * 12_000 + "acc = 0.0f;\n" + " \n" * 3000 + "}\n"
    markup, note = _render.highlighted("seed.cl", "kernel", seed.encode())
    assert seen and max(seen) < 32 and note == ""
    assert 'class="kt"' in markup  # still coloured
    assert html.unescape(re.sub(r"<[^>]+>", "", str(markup))).rstrip("\n") == seed.rstrip("\n")  # nothing lost


def test_colouring_that_takes_too_long_gives_the_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.web import _render

    monkeypatch.setattr(_render, "HIGHLIGHT_SECONDS", 0.0)
    source = "__kernel void k(__global float* x) { x[0] = 1.0f; }\n" * 2000
    markup, note = _render.highlighted("seed.cl", "kernel", source.encode())
    assert "shown without colours" in note and 'class="kt"' not in markup
    assert html.unescape(re.sub(r"<[^>]+>", "", str(markup))).rstrip("\n") == source.rstrip("\n")
