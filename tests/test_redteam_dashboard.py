"""The dashboard and REST answers against stored content written by strangers, over real HTTP.

A candidate's search log, a file name, a report: whatever a run stored must neither run in a
reviewer's browser nor stop the page that reviews it. And a server listening on loopback without
a token must not answer a page that reached it under another site's name (DNS rebinding).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api._settings import Settings
from api.web._llm_usage import LLM_KIND
from runs import ExperimentSpec, RunStore, TaskSpec
from tests.api_server import served_client
from tests.conftest import require_tool


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, run_workers=0, max_workers=2)


@pytest.fixture
def server(settings: Settings) -> Iterator[httpx.Client]:
    with served_client(settings) as client:
        yield client


def _task() -> TaskSpec:
    return TaskSpec(id="kernel/x", workload="cfd", params={"case": "cavity"})


def _search_log(store: RunStore, lines: list[str]) -> tuple[str, int]:
    run = store.create_run(_task())
    experiment = store.add_experiment(run.id, ExperimentSpec(key="base", task_id="kernel/x", params={}))
    log = store.add_artifact_bytes(
        run.id, "\n".join(lines).encode(), kind="log", name="search.jsonl", experiment_id=experiment.id
    )
    assert log.id is not None
    return run.id, log.id


@pytest.mark.parametrize(
    "line",
    [
        '{"fitness": 1.0, "index": "seed"}',
        '{"fitness": 1.0, "index": 1e400}',
        '{"fitness": 1.0, "index": NaN}',
        '{"fitness": 1.0, "index": [1]}',
        '{"fitness": 1.0, "index": 0, "status": "ok \\ud800", "note": "\\udfff", "source": "k\\ud800"}',
        '{"fitness": 1' + "0" * 400 + ', "index": 1' + "0" * 400 + "}",
        '{"fitness": 1.0, "index": 1, "params": ' + "[" * 100_000 + "}",
        '{"fitness": 1.0, "index": 1, "sou',
    ],
    ids=["text", "infinite", "nan", "list", "surrogates", "huge-integers", "deep", "cut-short"],
)
def test_a_hostile_search_log_line_does_not_break_the_run_page(
    server: httpx.Client, store: RunStore, line: str
) -> None:
    """A search log is written next to what a candidate printed: its index may be no number, its text may
    hold lone surrogates. The run page and the candidate's fragment still answer, with the text replaced."""
    run_id, log_id = _search_log(store, ['{"fitness": 0.5, "index": 0, "source": "a"}', line])
    run_page = server.get(f"/ui/runs/{run_id}")
    assert run_page.status_code == 200, run_page.text[:300]
    assert server.get(f"/ui/artifacts/{log_id}/entries/0").status_code == 200
    hostile = server.get(f"/ui/artifacts/{log_id}/entries/1")
    if line.startswith(('{"fitness": 1.0, "index": 1, "params": [[[', '{"fitness": 1.0, "index": 1, "sou')):
        # Nested past the parser, or cut short by a process that died writing it: not an entry.
        assert hostile.status_code == 404 and "has no entry 1" in hostile.json()["message"]
    else:
        assert hostile.status_code == 200, hostile.text[:300]
    assert server.get(f"/runs/{run_id}").status_code == 200
    if "ud800" in line:
        assert "ok \ufffd" in run_page.text  # the rest of the text is shown


def test_ragged_tables_of_the_same_name_compare_without_error(server: httpx.Client, store: RunStore) -> None:
    """Two runs' `profile.dat` overlaid: a row shorter than the first (a solver cut off mid-line) is a table
    the compare view must still draw, over the columns every row has."""
    runs = []
    for table in (b"x u v\n0 1 2\n1 2\n", b"x u v\n0 1 2\n1 2 3\n"):
        run = store.create_run(_task())
        experiment = store.add_experiment(run.id, ExperimentSpec(key="base", task_id="kernel/x", params={}))
        store.add_artifact_bytes(run.id, table, kind="table", name="profile.dat", experiment_id=experiment.id)
        runs.append(run.id)
    response = server.get("/ui/compare", params={"run": runs})
    assert response.status_code == 200, response.text[:300]
    assert "profile.dat: u against x" in response.text


def test_a_loopback_server_without_a_token_answers_only_loopback_names(server: httpx.Client, store: RunStore) -> None:
    """A page of evil.example whose name is re-pointed at 127.0.0.1 is same-origin to the browser: without
    this check it reads every run and posts new ones. Loopback names are still served."""
    run = store.create_run(_task())
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.nip.io"):
        for method, path in (("GET", "/runs"), ("GET", "/"), ("POST", f"/runs/{run.id}/cancel")):
            response = server.request(method, path, headers={"Host": host, "Origin": f"http://{host}"})
            assert response.status_code == 421, (host, path, response.status_code)
            assert "host" in response.json()["message"].lower()
    assert store.get_run(run.id).status == "queued"
    port = str(server.base_url.port)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "[::1]", f"127.0.0.2:{port}"):
        assert server.get("/runs", headers={"Host": host}).status_code == 200, host


@pytest.mark.parametrize("name", ["payload.js", "payload.mjs", "style.css", "worker.js"])
def test_an_artifact_is_never_served_as_script_or_style(server: httpx.Client, store: RunStore, name: str) -> None:
    """The dashboard's policy lets pages load scripts and styles of their own origin; artifacts share that
    origin, so one served as JavaScript or CSS would be a script any injected tag could load."""
    run = store.create_run(_task())
    artifact = store.add_artifact_bytes(run.id, b"alert(document.domain)", kind="source", name=name)
    response = server.get(f"/artifacts/{artifact.sha256}")
    assert response.status_code == 200
    kind = response.headers["content-type"].split(";")[0].strip()
    assert "javascript" not in kind and "ecmascript" not in kind and kind != "text/css", kind
    assert kind == "text/plain"
    assert response.content == b"alert(document.domain)"


def test_links_written_into_a_report_are_shown_not_followed(server: httpx.Client, store: RunStore) -> None:
    """A summary written before summaries were escaped holds links as a model wrote them: `[V1](https://...)` reads
    as a citation and `[the verified kernel](...)` as evidence, yet would lead to another site or another verdict.
    The dashboard shows such a link's text and destination; only links of the writer's own forms are followed (a
    digest reading as itself, to an artifact of the run), never a digest merely written in the text."""
    run = store.create_run(_task())
    figure = store.add_artifact_bytes(run.id, b"\x89PNG\r\n\x1a\n", kind="image", name="u.png")
    other = store.add_artifact_bytes(run.id, b"\x89PNG\r\n\x1a\nother", kind="image", name="rejected.png")
    markdown = (
        "# Report\n\n## Summary\n\nAll checks passed, see [V1](https://evil.example/v1), "
        "[the verified kernel](https://evil.example/k.cl), [verdict 9](#verdict-9), "
        f"[kernel]( /artifacts/{figure.sha256}) and <https://evil.example/auto>.\n\n"
        f"![u](/artifacts/{other.sha256})\n\n![placed](figures/{figure.sha256[:12]}-u.png)\n\n"
        f"artifact {figure.sha256[:12]}, writer's [{figure.sha256[:12]}](/artifacts/{figure.sha256})\n"
    )
    report = store.add_artifact_bytes(run.id, markdown.encode(), kind="report", name="report.md")
    store.update_run(run.id, report_sha256=report.sha256)
    html = server.get(f"/ui/runs/{run.id}").text
    section = html.split('id="report"', 1)[1]
    hrefs = re.findall(r'href="([^"]*)"', section.split("</section>", 1)[0])
    # The report's own file (under its own record's name), then the digest the writer linked.
    assert hrefs == [f"/artifacts/{report.sha256}?artifact={report.id}", f"/artifacts/{figure.sha256}"], hrefs
    assert (
        'the verified kernel</span> <span class="link-removed">(link to https://evil.example/k.cl not followed)'
        in section
    )
    assert (
        f'<span class="unlinked">kernel</span> <span class="link-removed">(link to /artifacts/{figure.sha256}'
        in section
    )
    # Only the figures the writer placed (`figures/<digest>-name`) are shown: an image naming an artifact's URL
    # itself is someone else's text, and could show any figure of the store (a rejected experiment's) as this
    # report's.
    assert f'<img src="/artifacts/{figure.sha256}" alt="placed">' in section
    assert '<span class="image-refused">[image: u]</span>' in section


HUGE = int("1" + "0" * 400)
"""A JSON integer no float holds; JSON allows it and Python parses it exactly."""


def test_numbers_no_float_holds_in_logs_and_usage_do_not_break_the_run_page(
    server: httpx.Client, store: RunStore
) -> None:
    """A model server's usage figures and a proof search's timings are numbers someone else wrote: one too
    large for a float, or infinite, is shown as no figure, and the rest of the page still renders."""
    run = store.create_run(_task())
    for value in (HUGE, float("inf"), 12):
        store.emit(run.id, LLM_KIND, "call", {"purpose": "planner", "prompt_tokens": value, "seconds": value})
    experiment = store.add_experiment(run.id, ExperimentSpec(key="p", task_id="kernel/x", params={}))
    store.add_artifact_bytes(run.id, b"Theorem t : True.", kind="proof", name="p.v", experiment_id=experiment.id)
    line = {"kind": "check", "ok": False, "attempt": 1, "step": 1, "seconds": HUGE, "draft": "x", "error": "E"}
    store.add_artifact_bytes(
        run.id, json.dumps(line).encode(), kind="log", name="search.jsonl", experiment_id=experiment.id
    )
    run_page = server.get(f"/ui/runs/{run.id}")
    assert run_page.status_code == 200, run_page.text[:300]
    assert "<td>12</td>" in run_page.text  # the one finite usage figure counted


def test_a_file_name_cannot_add_lines_to_the_archive_index(server: httpx.Client, store: RunStore) -> None:
    """The archive's README lists `sha256  name` per file for `sha256sum -c`; a name holding a newline and a
    digest of its choosing, for a file missing from the store, must not add a line vouching for that digest."""
    run = store.create_run(_task())
    fake = "f" * 64
    artifact = store.add_artifact_bytes(run.id, b"gone", kind="data", name=f"x\n{fake}  report/report.md")
    store.artifacts.open_path(artifact.sha256).unlink()
    response = server.get(f"/runs/{run.id}/archive")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        readme = archive.read("README.txt").decode()
    listed = [line for line in readme.splitlines() if line.strip()][1:]
    assert len(listed) == 1 and listed[0].startswith(f"{artifact.sha256}  (missing from the store)"), listed
    assert not any(line.startswith(fake) for line in readme.splitlines())


TROJAN = (
    "__kernel void k(__global int *flag) {\n"
    "    /*\u202e } \u2066if (get_global_id(0) == 0)\u2069 \u2066 { */\n"
    "    flag[0] = 1; /* only for the first item */\n}\n"
)
"""Trojan Source (CVE-2021-42574): on screen the condition reads as code; to the compiler it is a comment."""


def test_text_reordering_characters_are_shown_not_obeyed(server: httpx.Client, store: RunStore) -> None:
    """A candidate kernel, its file name and a rationale holding bidirectional overrides and isolates would
    display as a different program than the one compiled; every such character is shown as `⟨U+....⟩`."""
    run = store.create_run(_task())
    experiment = store.add_experiment(
        run.id, ExperimentSpec(key="k", task_id="kernel/x", params={}, rationale="safe \u202eemag")
    )
    kernel = store.add_artifact_bytes(
        run.id, TROJAN.encode(), kind="kernel", name="k\u202elc.exe", experiment_id=experiment.id
    )
    pages = [server.get(f"/ui/runs/{run.id}"), server.get(f"/ui/artifacts/{kernel.id}")]
    for answer in pages:
        assert answer.status_code == 200
        assert not any(chr(code) in answer.text for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
    assert "\u27e8U+202E\u27e9" in pages[0].text and "\u27e8U+2066\u27e9" in pages[1].text


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (Debian's, through Playwright), as the browser tests drive it."""
    require_tool(shutil.which("/usr/bin/chromium") is not None, "Debian's chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_tool(False, "the playwright Python package")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
        yield browser.new_page()
        browser.close()


@pytest.mark.browser
def test_streamed_events_show_reordering_characters_too(server: httpx.Client, store: RunStore, page: Any) -> None:
    """An event that arrives over the live stream is written into the page by its script, not by the
    templates: it shows the same `⟨U+202E⟩` as a page rendered by the server."""
    url = str(server.base_url).rstrip("/")
    run_id = store.create_run(_task(), status="queued").id
    store.update_run(run_id, status="running")
    page.goto(f"{url}/ui/runs/{run_id}")
    store.emit(run_id, "note", "candidate 3 \u202edetpecca\u202c by the gate")
    events = page.locator("#events")
    arrived = "(el) => el.textContent.includes('candidate 3')"
    page.wait_for_function(arrived, arg=events.element_handle(), timeout=10_000)
    shown = events.inner_text()
    assert "\u202e" not in shown and "candidate 3 \u27e8U+202E\u27e9detpecca\u27e8U+202C\u27e9 by the gate" in shown


@pytest.mark.browser
def test_a_malformed_fragment_in_a_link_does_not_stop_the_page_script(
    server: httpx.Client, store: RunStore, page: Any
) -> None:
    """A link to a run page ending in `#%E0%A4%A` (no valid escape) threw before the page wired its live
    events and buttons: the status stayed as loaded. The fragment is ignored and the page carries on."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    url = str(server.base_url).rstrip("/")
    run_id = store.create_run(_task(), status="queued").id
    store.update_run(run_id, status="running")
    page.goto(f"{url}/ui/runs/{run_id}#%E0%A4%A")
    store.emit(run_id, "note", "still following")
    events = page.locator("#events")
    arrived = "(el) => el.textContent.includes('still following')"
    page.wait_for_function(arrived, arg=events.element_handle(), timeout=10_000)
    assert errors == []
