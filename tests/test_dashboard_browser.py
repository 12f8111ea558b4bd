"""The dashboard in a real browser (Debian's Chromium through Playwright), against `agent serve`.

Submits a small cavity run from the form, watches its status change live until it finishes, opens
an image that a verdict cites as evidence, then the rendered report. Screenshots of each step go to
the test log folder ($LABGATE_TEST_LOG_DIR, default ./test-logs), whose path the test prints. The
runs table, the run page and the compare view are checked with axe-core: no rule may be violated.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api_server import serve_process
from tests.conftest import REPO, require_tool

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.openfoam,
    pytest.mark.usefixtures("openfoam", "bubblewrap"),
]

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
