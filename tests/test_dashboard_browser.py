"""The dashboard in a real browser (Debian's Chromium through Playwright).

One slow test submits a small cavity run from the form against `agent serve`, watches its status
change live until it finishes, opens an image that a verdict cites as evidence, then the rendered
report; screenshots of each step go to the test log folder ($LABGATE_TEST_LOG_DIR, default
./test-logs), whose path the test prints. The others review runs recorded straight into a store
(no solver, a few seconds each): the runs table's columns, search, filters and live rows; approving
a paused run's plan with a token; report links and the zip download; the compare page's figures
and overlaid curves; kernel candidates and failing proof drafts opened from the page; long logs
loaded only when opened. Every page visited is checked with axe-core: no rule may be violated.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from api._settings import Settings
from runs import ExperimentSpec, GateResult, RunStore, TaskSpec
from tests.api_server import serve_in_thread, serve_process
from tests.conftest import REPO, checkpointed, require_tool

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


def screenshot_dir() -> Path:
    root = Path(os.environ.get("LABGATE_TEST_LOG_DIR") or REPO / "test-logs")
    folder = root / f"dashboard-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    require_tool(shutil.which(CHROMIUM) is not None, "Debian's chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_tool(False, "the playwright Python package")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's rule violations on the page as shown (the engine ships inside axe-playwright-python)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes'][:3]]}"
        for item in results.response["violations"]
    ]


@pytest.mark.slow
@pytest.mark.openfoam
@pytest.mark.usefixtures("openfoam", "bubblewrap")
def test_submit_watch_and_review_a_run_in_the_browser(
    browser: Any, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = screenshot_dir()
    with capsys.disabled():
        print(f"\ndashboard screenshots: {shots}")
    problems: list[str] = []
    with serve_process(home, workers=1) as url:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        page.goto(url + "/")
        form = page.get_by_role("region", name="Submit a run")
        form.get_by_label("Task").select_option("cfd/cavity")
        form.get_by_label("Parameters").fill("re=100\ncells=16\nconvective_times=3")
        form.get_by_label("Experiment budget").fill("1")
        page.screenshot(path=str(shots / "01-submit-form.png"))
        form.get_by_role("button", name="Submit run").click()
        page.wait_for_url("**/ui/runs/*")
        run_id = page.url.rsplit("/", 1)[-1]
        status = page.locator("#run-status")
        assert status.inner_text() in ("queued", "running")
        page.screenshot(path=str(shots / "02-run-live.png"))

        # The status badge is updated from the event stream; the page reloads itself when the run ends.
        page.wait_for_function(
            "() => ['finished', 'failed'].includes(document.querySelector('#run-status')?.textContent)",
            timeout=240_000,
        )
        page.wait_for_selector("#run[data-rendered-status=finished], #run[data-rendered-status=failed]", timeout=60_000)
        page.wait_for_load_state("networkidle")
        assert page.locator("#run-status").inner_text() == "finished", page.locator("#run-reason").all_inner_texts()
        assert page.locator("li.verdict").count() >= 3
        page.screenshot(path=str(shots / "03-run-finished.png"), full_page=True)
        assert accessibility_violations(page) == []

        # An image verdict: open the evidence of a verdict that cites a figure, then the figure itself.
        verdict = page.locator("li.verdict", has=page.locator("a.evidence-image")).first
        verdict.locator("details.evidence summary").click()
        thumbnail = verdict.locator("a.evidence-image img").first
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
        verdict.screenshot(path=str(shots / "04-image-verdict.png"))
        with page.expect_navigation():
            verdict.locator("a.evidence-image").first.click()
        assert "/artifacts/" in page.url
        response = page.request.get(page.url)
        assert response.status == 200 and response.headers["content-type"] == "image/png"
        page.screenshot(path=str(shots / "05-evidence-image.png"))

        # The report, rendered in the run page.
        page.goto(f"{url}/ui/runs/{run_id}")
        page.get_by_role("link", name="Report").first.click()
        report = page.locator("#report .report")
        assert "Accepted results" in report.inner_text() and "Provenance" in report.inner_text()
        page.locator("#report").screenshot(path=str(shots / "06-report.png"))

        page.goto(url + "/")
        row = page.locator(f"tr[data-run-id='{run_id}']")
        assert row.locator("[data-field=status]").inner_text().strip().startswith("finished")
        page.screenshot(path=str(shots / "07-runs-table.png"))
        assert accessibility_violations(page) == []
        page.goto(f"{url}/ui/compare")
        assert accessibility_violations(page) == []
    assert problems == [], problems
    assert sorted(path.name for path in shots.glob("*.png")) == [
        "01-submit-form.png",
        "02-run-live.png",
        "03-run-finished.png",
        "04-image-verdict.png",
        "05-evidence-image.png",
        "06-report.png",
        "07-runs-table.png",
    ]


# -- Reviewing, on runs recorded straight into a store (no solver): fast enough for every lane ------------

TOKEN = "browser-test-token-0123456789"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def record_run(
    store: RunStore,
    *,
    params: dict[str, Any],
    status: str = "finished",
    decision: str | None = "accept",
    metrics: dict[str, Any] | None = None,
    goal: str = "",
    profile: list[tuple[float, float]] | None = None,
) -> str:
    """A cavity run as the orchestrator leaves it: one experiment, a figure, a log, a profile table, a verdict."""
    spec = TaskSpec(id="cfd/cavity", workload="cfd", goal=goal, params=params, gates=["solver-log"])
    run_id = store.create_run(spec, status="queued").id
    if status == "queued":
        return run_id
    experiment = store.add_experiment(run_id, ExperimentSpec(key="cavity-1", task_id="cfd/cavity", params=params))
    assert experiment.id is not None
    figure = store.add_artifact_bytes(
        run_id, PNG, kind="image", name="cavity-1/u_profile.png", experiment_id=experiment.id, produced_by="cfd:plot"
    )
    store.add_artifact_bytes(
        run_id,
        b"Time = 0.005\nCourant Number mean: 0.1\nEnd\n" * 40,
        kind="log",
        name="cavity-1/log.icoFoam",
        experiment_id=experiment.id,
    )
    rows = "\n".join(f"{y} {u}" for y, u in (profile or [(0.0, 0.0), (0.5, -0.2), (1.0, 1.0)]))
    store.add_artifact_bytes(
        run_id, f"# y u\n{rows}\n".encode(), kind="table", name="cavity-1/u_centerline.dat", experiment_id=experiment.id
    )
    store.update_experiment(
        experiment.id, status="done", decision=decision, metrics=metrics or {"u_min": -0.2, "rmse": 0.01}
    )
    if decision is not None:
        store.add_verdict(
            run_id,
            experiment.id,
            GateResult(gate="solver-log", decision=decision, reasons=["converged"], evidence=[figure.sha256]),
        )
    store.update_run(
        run_id, status=status, accepted=int(decision == "accept"), rejected=int(decision not in (None, "accept"))
    )
    return run_id


@pytest.fixture
def served(home: Path) -> Iterator[tuple[str, RunStore]]:
    """The app on loopback without workers (runs stay as recorded), and the store behind it."""
    with serve_in_thread(Settings(home=home, run_workers=0), start_workers=False) as url:
        store = RunStore(home)
        yield url, store
        store.engine.dispose()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems  # a test that provokes a refusal on purpose removes its console line
    yield page
    page.close()
    assert problems == [], problems


def test_runs_table_shows_parameters_and_metrics_searches_filters_and_updates_live(
    served: tuple[str, RunStore], page: Any
) -> None:
    url, store = served
    low = record_run(store, params={"re": 100, "cells": 16}, metrics={"u_min": -0.21, "rmse": 0.012})
    high = record_run(
        store, params={"re": 400, "cells": 32}, goal="the high Reynolds benchmark", metrics={"u_min": -0.33}
    )
    rejected = record_run(store, params={"re": 1000, "cells": 16}, decision="reject", metrics={"u_min": 0.9})
    waiting = record_run(store, params={"re": 100, "cells": 8}, status="queued")

    page.goto(url + "/")
    table = page.locator("#runs-table")
    headers = table.locator("thead th").all_inner_texts()
    assert any(h.endswith("re") for h in headers) and any(h.endswith("u_min") for h in headers), headers
    row = table.locator(f"tr[data-run-id='{high}']")
    assert row.locator("[data-param=re]").inner_text() == "400"
    assert row.locator("[data-metric=u_min]").inner_text() == "-0.33"
    assert table.locator(f"tr[data-run-id='{waiting}'] [data-metric=u_min]").inner_text() == "—"
    assert accessibility_violations(page) == []

    page.get_by_label("Search").fill("high reynolds")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert [r.get_attribute("data-run-id") for r in page.locator("#runs-table tbody tr").all()] == [high]

    page.goto(url + "/")
    page.get_by_label("Decision").select_option("reject")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert [r.get_attribute("data-run-id") for r in page.locator("#runs-table tbody tr").all()] == [rejected]

    # Live: a status change, and a new run, appear without reloading; a ticked compare box stays ticked.
    page.goto(url + "/")
    page.evaluate("window.notReloaded = true")
    page.locator(f"tr[data-run-id='{low}'] input[type=checkbox]").check()
    store.update_run(waiting, status="running")
    newcomer = record_run(store, params={"re": 250, "cells": 16}, status="queued")
    page.wait_for_selector(f"tr[data-run-id='{waiting}'] [data-field=status] .status-running", timeout=10_000)
    page.wait_for_selector(f"tr[data-run-id='{newcomer}']", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(f"tr[data-run-id='{low}'] input[type=checkbox]").is_checked()
    assert "5 runs" in page.locator("#runs-table caption").inner_text()


def test_a_paused_run_lists_its_plan_and_is_approved_from_the_page_with_a_token(
    home: Path, browser: Any, page: Any
) -> None:
    store = RunStore(home)
    spec = TaskSpec(id="cfd/cavity", workload="cfd", sweep={"re": [100, 400]}, gates=["solver-log"])
    run_id = store.create_run(spec, status="paused").id
    planned = [
        {"key": "re-100", "params": {"re": 100, "case": "x" * 500}, "rationale": "the benchmark's lowest Re"},
        {"key": "re-400", "params": {"re": 400, "case": "x" * 500}, "rationale": ""},
    ]
    store.emit(run_id, "plan", "planned 2 experiment(s)", {"keys": ["re-100", "re-400"], "planned": planned})
    store.set_status(run_id, "paused", f"waiting for plan approval: agent approve {run_id}")
    checkpointed(store.home, run_id)
    secured = Settings(home=home, run_workers=0, api_token=SecretStr(TOKEN))
    with serve_in_thread(secured, start_workers=False) as url:
        page.goto(f"{url}/ui/runs/{run_id}")
        approval = page.get_by_role("region", name="Plan waiting for approval")
        rows = approval.locator("#planned-experiments tbody tr")
        assert rows.count() == 2
        assert "re=100" in rows.first.inner_text() and "the benchmark's lowest Re" in rows.first.inner_text()
        assert "case=…" in rows.first.inner_text() and "xxxx" not in approval.inner_text()
        assert "agent approve" not in page.locator(".run-head").inner_text() + approval.inner_text()
        assert accessibility_violations(page) == []

        page.get_by_role("button", name="Approve plan and run").click()  # no token yet: refused, still paused
        page.wait_for_function("() => document.querySelector('#action-result').textContent.includes('401')")
        assert store.get_run(run_id).status == "paused"
        page.problems.remove("Failed to load resource: the server responded with a status of 401 (Unauthorized)")
        page.get_by_label("API token").fill(TOKEN)
        page.get_by_role("button", name="Approve plan and run").click()
        page.wait_for_selector("#run-status.status-queued", timeout=10_000)
        assert approval.is_hidden()
        assert store.get_run(run_id).status == "queued"
        page.goto("about:blank")  # closes the event stream, so the server stops at once
    store.engine.dispose()


def test_report_links_citations_and_digests_wraps_proofs_and_the_run_downloads_as_a_zip(
    served: tuple[str, RunStore], page: Any
) -> None:
    url, store = served
    run_id = record_run(store, params={"re": 100})
    verdict = store.verdicts(run_id)[0]
    figure = next(a for a in store.artifacts_of(run_id) if a.kind == "image")
    long_line = "Proof. " + " ".join(f"rewrite lemma_{i}." for i in range(80)) + " Qed."
    markdown = (
        f"# Report\n\n## Accepted results\n\n| quantity | value | source |\n| --- | --- | --- |\n"
        f"| u_min | -0.2 | solver-log [[V{verdict.id}]](#verdict-{verdict.id}) |\n\n"
        f"![u](figures/{figure.sha256[:12]}-u_profile.png)\n\n"
        f"<sub>artifact sha256 [{figure.sha256}](/artifacts/{figure.sha256})</sub>\n\n"
        f"```coq\n{long_line}\n```\n\n<sub>first 150 lines shown</sub>\n\n"
        f"## Provenance\n\n- [[V{verdict.id}]](#verdict-{verdict.id}) solver-log → accept; "
        f"evidence: [{figure.sha256[:12]}](/artifacts/{figure.sha256})\n"
        f"- [[V999]](#verdict-999) is not a verdict of this run\n"
    )
    report = store.add_artifact_bytes(run_id, markdown.encode(), kind="report", name="report.md")
    store.update_run(run_id, report_sha256=report.sha256)

    page.goto(f"{url}/ui/runs/{run_id}")
    body = page.locator("#report .report")
    assert "<sub>" not in body.inner_text() and "first 150 lines shown" in body.inner_text()
    citations = body.locator("a.citation")
    assert citations.count() == 2 and citations.first.get_attribute("href") == f"#verdict-{verdict.id}"
    assert body.locator("a.citation", has_text="V999").count() == 0
    digests = body.locator("a.digest")
    assert {digests.nth(i).get_attribute("href") for i in range(digests.count())} == {f"/artifacts/{figure.sha256}"}
    assert digests.count() == 2  # the full digest under the figure and the prefix in the provenance
    citations.first.click()
    assert page.evaluate("location.hash") == f"#verdict-{verdict.id}"
    assert page.locator(f"#verdict-{verdict.id}").is_visible()
    proof = body.locator("pre").first
    assert proof.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert proof.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "a long proof line must wrap"
    assert accessibility_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Download all (zip)").click()
    saved = download.value.path()
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        assert {"run.json", "README.txt", "report/report.md", "artifacts/cavity-1/u_profile.png"} <= names
        assert archive.read("artifacts/cavity-1/u_profile.png") == PNG


def test_compare_shows_figures_side_by_side_and_overlays_shared_curves(served: tuple[str, RunStore], page: Any) -> None:
    url, store = served
    first = record_run(store, params={"re": 100}, profile=[(0.0, 0.0), (0.5, -0.2), (1.0, 1.0)])
    second = record_run(store, params={"re": 400}, profile=[(0.0, 0.0), (0.5, -0.3), (1.0, 1.0)])
    page.goto(f"{url}/ui/compare?run={first}&run={second}")
    figures = page.locator(".side-by-side figure")
    assert figures.count() == 2
    assert [figures.nth(i).locator("figcaption").inner_text() for i in range(2)] == [
        f"u_profile.png · {first}",
        f"u_profile.png · {second}",
    ]
    boxes = [figures.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]  # one row, the runs in order
    overlay = page.locator("figure.overlay svg.plot").first
    assert "u against y" in overlay.locator("title").first.text_content()
    assert overlay.locator("polyline").count() == 2  # one curve per run, over one another
    assert {t.strip() for t in overlay.locator("text.legend").all_text_contents()} == {first, second}
    assert accessibility_violations(page) == []


def test_every_kernel_candidate_and_failing_proof_draft_opens_from_the_run_page(
    served: tuple[str, RunStore], page: Any
) -> None:
    url, store = served
    spec = TaskSpec(id="kernels/stencil", workload="kernels", gates=["kernel-correctness"])
    run_id = store.create_run(spec).id
    search = store.add_experiment(run_id, ExperimentSpec(key="search", task_id="kernels/stencil"))
    sizes = [{"label": "small", "dims": [64, 64], "correct": True, "seconds": 0.001, "gbps": 12.5, "fraction": 0.4}]
    seed = "__kernel void f(__global float* a) { a[0] = 1.0f; }\n"
    child = "__kernel void f(__global float* a) { a[0] = 2.0f; /* unrolled */ }\n"
    lines = [
        {"index": 0, "parent": None, "status": "ok", "fitness": 0.2, "note": "seed", "sizes": sizes, "source": seed},
        {"index": 1, "parent": 0, "status": "compile_error", "fitness": 0.0, "note": "typo",
         "feedback": "compile_error: line 1: expected ';'", "source": "__kernel void f( {\n"},
        {"index": 2, "parent": 0, "status": "ok", "fitness": 0.5, "note": "unroll", "sizes": sizes, "source": child},
    ]  # fmt: skip
    store.add_artifact_bytes(
        run_id,
        "\n".join(json.dumps(line) for line in lines).encode(),
        kind="log",
        name="search/search.jsonl",
        experiment_id=search.id,
    )
    proof = store.add_experiment(run_id, ExperimentSpec(key="proof", task_id="kernels/stencil"))
    log = [
        {"kind": "check", "origin": "llm:draft-1", "attempt": 1, "ok": False, "step": 2, "error": "Error: lia failed",
         "goal": "x : nat\n============================\n0 < S x", "source": "Proof.\n  intros x.\n  lia.\nQed."},
        {"kind": "check", "origin": "llm:draft-2", "attempt": 2, "ok": True, "source": "Proof. auto with arith. Qed."},
    ]  # fmt: skip
    store.add_artifact_bytes(
        run_id, "\n".join(json.dumps(e) for e in log).encode(), kind="log", name="proof/search.jsonl",
        experiment_id=proof.id,
    )  # fmt: skip
    store.add_artifact_bytes(run_id, b"Proof. auto with arith. Qed.\n", kind="proof", name="proof/p.v",
                             experiment_id=proof.id)  # fmt: skip
    store.update_experiment(proof.id, decision="accept")

    page.goto(f"{url}/ui/runs/{run_id}")
    plot = page.locator(f"#experiment-{search.id} svg.plot")
    assert {t.strip() for t in plot.locator("text.legend").all_text_contents()} == {"each candidate", "best so far"}
    plot.locator("a.point-link").nth(2).click()  # the point of candidate 2 opens it, with its parent's diff
    candidate = page.locator(f"#experiment-{search.id}-candidate-2")
    page.wait_for_function("(el) => el.open && el.querySelector('.step-detail')", arg=candidate.element_handle())
    text = candidate.inner_text()
    assert "unrolled" in text and "diff of candidate 2 to its parent, candidate 0" in text and "12.5" in text
    assert page.evaluate("location.hash") == f"#experiment-{search.id}-candidate-2"
    failed = page.locator(f"#experiment-{search.id}-candidate-1")
    failed.locator("summary").click()
    failed.locator(".step-detail").wait_for()
    assert "expected ';'" in failed.inner_text() and "compile_error" in failed.inner_text()

    draft = page.locator("#proofs details.draft").first
    page.locator("#proofs details.prover-runs summary").first.click()
    draft.locator("summary").click()
    draft.locator(".step-detail").wait_for()
    text = draft.inner_text()
    assert "intros x." in text and "Error: lia failed" in text and "0 < S x" in text
    assert page.locator("#proofs details.draft").count() == 1  # only failing drafts carry one
    assert accessibility_violations(page) == []


def test_run_page_loads_long_logs_only_when_opened(served: tuple[str, RunStore], page: Any) -> None:
    url, store = served
    run_id = record_run(store, params={"re": 100})
    experiment = store.experiments(run_id)[0]
    big = b"".join(
        b"Time = %d\nCourant Number mean: 0.1 max: 0.5\nsmoothSolver: Solving for Ux\n" % i for i in range(6000)
    )
    store.add_artifact_bytes(run_id, big, kind="log", name="cavity-1/log.big", experiment_id=experiment.id)
    response = page.request.get(f"{url}/ui/runs/{run_id}")
    assert response.ok and len(response.body()) < 60_000, len(response.body())  # a 300 KB log stays out
    page.goto(f"{url}/ui/runs/{run_id}")
    page.locator("details.files > summary", has_text="log").click()
    figure = page.locator("figure.artifact", has_text="log.big")
    figure.locator("summary").click()
    figure.locator(".code .hl").wait_for()
    assert "Time = 5999" in figure.inner_text() and "last 400 of" in figure.inner_text()


def test_tags_and_notes_are_saved_from_the_run_page_and_filter_the_runs_table(
    served: tuple[str, RunStore], page: Any
) -> None:
    url, store = served
    run_id = record_run(store, params={"re": 100})
    other = record_run(store, params={"re": 400})
    page.goto(f"{url}/ui/runs/{run_id}")
    page.locator("#annotations > summary").click()
    page.get_by_label("Tags").fill("baseline ghia")
    page.get_by_label("Notes").fill("matches the 1982 table to 1%")
    page.get_by_role("button", name="Save tags and notes").click()
    page.wait_for_function("() => document.querySelector('#annotate-result').textContent.startsWith('Saved')")
    assert store.get_run(run_id).tags == ["baseline", "ghia"] and store.get_run(run_id).notes.startswith("matches")
    page.reload()
    assert "matches the 1982 table to 1%" in page.locator("#run-notes").inner_text()
    assert accessibility_violations(page) == []
    page.goto(url + "/")
    with page.expect_navigation():
        page.locator(f"tr[data-run-id='{run_id}'] a.tag", has_text="baseline").click()
    assert [r.get_attribute("data-run-id") for r in page.locator("#runs-table tbody tr").all()] == [run_id]
    assert page.get_by_role("textbox", name="Tag").input_value() == "baseline" and other not in page.content()


def test_a_running_cfd_experiment_shows_its_latest_solver_progress_live(
    served: tuple[str, RunStore], page: Any
) -> None:
    url, store = served
    spec = TaskSpec(id="cfd/cavity", workload="cfd", params={"re": 100}, gates=["solver-log"])
    run_id = store.create_run(spec, status="queued").id
    store.update_run(run_id, status="running")
    experiment = store.add_experiment(run_id, ExperimentSpec(key="re=100", task_id="cfd/cavity", params={"re": 100}))
    assert experiment.id is not None
    store.update_experiment(experiment.id, status="running")

    def progress(t: float, ux: float) -> None:
        summary = f"t = {t:g}, Δt = 0.005, residuals Ux {ux:.3g}, Uy 0.02, p 0.003"
        data = {"key": "re=100", "summary": summary, "time": t, "delta_t": 0.005, "residuals": {"Ux": ux}}
        store.emit(run_id, "progress", f"re=100: {summary}", data)

    progress(0.1, 0.5)
    progress(0.25, 0.04)  # only the newest is shown
    page.goto(f"{url}/ui/runs/{run_id}")
    line = page.locator(f"#experiment-{experiment.id} .solver-progress")
    assert "t = 0.25, Δt = 0.005, residuals Ux 0.04" in line.inner_text()
    assert "t = 0.1," not in page.locator("#experiments").inner_text()
    assert "progress" not in page.locator("#events").inner_text()  # progress updates one line, not the list

    progress(0.5, 0.0031)  # arrives over the stream and replaces the line in place
    page.wait_for_function("(el) => el.textContent.includes('t = 0.5,')", arg=line.element_handle(), timeout=10_000)
    assert "Ux 0.0031" in line.inner_text() and page.locator(".solver-progress").count() == 1
    assert accessibility_violations(page) == []

    store.update_experiment(experiment.id, status="done")  # a finished experiment no longer shows progress
    page.goto(f"{url}/ui/runs/{run_id}")
    assert page.locator(".solver-progress").count() == 0
