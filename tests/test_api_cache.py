"""The response cache of GET /runs and GET /runs/{id}: fast repeats, never an answer older than a write.

Writes come from a second store on the same database, as a worker process or another server
writes them; every test runs on SQLite and, where CI provides one, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api._detail import headline_experiments, run_detail
from api._settings import Settings
from api.rest._cache import LIVE_SECONDS, STATE_KEY, ResponseCache
from api.rest._security import Message, Receive, Scope, Send
from runs import ExperimentSpec, RunStore, TaskSpec
from tests.api_server import serve_in_thread, served_client
from tests.databases import BACKENDS, database_url

TOKEN = "s3cret-token-for-cache-tests"
TASK = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, home: Path) -> Iterator[Settings]:
    with database_url(request.param) as url:
        yield Settings(home=home, database_url=url, run_workers=0)


@pytest.fixture
def writer(settings: Settings) -> Iterator[RunStore]:
    """Another process's view of the store: its writes reach the server only through the database."""
    store = RunStore(settings.home, settings.database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the handlers really built a run list or a run's record."""
    counts = {"list": 0, "detail": 0}

    def counted_list(*args: Any) -> Any:
        counts["list"] += 1
        return headline_experiments(*args)

    def counted_detail(*args: Any) -> Any:
        counts["detail"] += 1
        return run_detail(*args)

    monkeypatch.setattr("api.rest._routes_runs.headline_experiments", counted_list)
    monkeypatch.setattr("api.rest._routes_runs.run_detail", counted_detail)
    return counts


def test_repeated_reads_are_served_from_memory_and_every_write_shows_at_once(
    settings: Settings, writer: RunStore, built: dict[str, int]
) -> None:
    run = writer.create_run(TASK)
    writer.update_run(run.id, status="finished", accepted=1)
    with served_client(settings) as client:
        first = [client.get("/runs").json(), client.get(f"/runs/{run.id}").json()]
        for _ in range(5):
            assert client.get("/runs").json() == first[0]
            assert client.get(f"/runs/{run.id}").json() == first[1]
        assert built == {"list": 1, "detail": 1}

        writer.update_run(run.id, accepted=7, notes="seen")  # a worker's write: nothing in the server is told
        assert client.get("/runs").json()["items"][0]["accepted"] == 7
        assert client.get(f"/runs/{run.id}").json()["notes"] == "seen"

        experiment = writer.add_experiment(run.id, ExperimentSpec(key="e1", task_id=TASK.id, params={"re": 100}))
        assert [e["key"] for e in client.get(f"/runs/{run.id}").json()["experiments"]] == ["e1"]
        writer.update_experiment(experiment.id or 0, decision="accept", metrics={"error": 0.5})
        assert client.get("/runs").json()["items"][0]["metrics"] == {"error": 0.5}

        writer.emit(run.id, "note", "an event")  # any write, even one neither answer shows
        client.get("/runs")
        second = writer.create_run(TASK)
        assert [row["run_id"] for row in client.get("/runs").json()["items"]] == [second.id, run.id]
        assert client.get("/runs", params={"limit": 1}).json()["total"] == 2
    assert built == {"list": 6, "detail": 3}


def test_a_write_through_the_api_shows_in_the_next_read(settings: Settings) -> None:
    guarded = settings.model_copy(update={"api_token": SecretStr(TOKEN)})
    store = RunStore(settings.home, settings.database_url)
    run = store.create_run(TASK)
    store.engine.dispose()
    with served_client(guarded) as client:
        assert client.get(f"/runs/{run.id}").json()["tags"] == []
        response = client.post(
            f"/runs/{run.id}/annotations",
            json={"tags": ["checked"], "notes": "fine"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 200
        assert client.get(f"/runs/{run.id}").json()["tags"] == ["checked"]
        assert client.get("/runs").json()["items"][0]["tags"] == ["checked"]


def test_etag_answers_304_until_the_run_changes(settings: Settings, writer: RunStore) -> None:
    run = writer.create_run(TASK)
    with served_client(settings) as client:
        first = client.get(f"/runs/{run.id}")
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["x-frame-options"] == "DENY"  # the security headers on cached answers too
        again = client.get(f"/runs/{run.id}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and again.headers["x-content-type-options"] == "nosniff"
        assert client.get(f"/runs/{run.id}", headers={"If-None-Match": '"other"'}).status_code == 200

        writer.update_run(run.id, notes="changed")
        changed = client.get(f"/runs/{run.id}", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.json()["notes"] == "changed"
        assert changed.headers["etag"] != etag


def test_protected_reads_still_check_every_request(settings: Settings, writer: RunStore) -> None:
    run = writer.create_run(TASK)
    secured = settings.model_copy(update={"api_token": SecretStr(TOKEN), "protect_reads": True})
    with served_client(secured) as client:
        good = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get(f"/runs/{run.id}", headers=good).status_code == 200
        assert client.get("/runs", headers=good).status_code == 200
        assert client.get(f"/runs/{run.id}").status_code == 401  # cached for the token holder, not for others
        assert client.get("/runs", headers={"Authorization": "Bearer wrong-token-here"}).status_code == 401
        for _ in range(12):
            client.get("/runs", headers={"Authorization": "Bearer wrong-token-here"})
        assert client.get("/runs", headers=good).status_code == 429  # the limiter runs before the cache


def test_unknown_runs_and_refusals_are_not_kept(settings: Settings, writer: RunStore) -> None:
    with served_client(settings) as client:
        assert client.get("/runs/20260101-000000-abcdef").status_code == 404
        assert client.get("/runs", params={"limit": 0}).status_code == 422
        assert client.get("/runs", params={"limit": 0}).status_code == 422
        run = writer.create_run(TASK)
        assert client.get(f"/runs/{run.id}").status_code == 200


def test_a_list_is_kept_per_host_because_its_next_link_names_it(settings: Settings, writer: RunStore) -> None:
    for _ in range(2):
        writer.create_run(TASK)
    with serve_in_thread(settings, start_workers=False) as url, httpx.Client(base_url=url, timeout=30) as client:
        one = client.get("/runs", params={"limit": 1}).json()["next"]
        # Another name of this loopback server (a foreign name is refused without a token: DNS rebinding).
        other = client.get("/runs", params={"limit": 1}, headers={"Host": "labgate.localhost"}).json()["next"]
    assert one.startswith(url) and other.startswith("http://labgate.localhost/")


# -- the middleware alone -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _app(calls: list[str], seconds: float | bool | None, delay: float = 0.0) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await asyncio.sleep(delay)
        if seconds is not False:
            scope["state"][STATE_KEY] = seconds
        body = f"answer {len(calls)}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    return app


async def _get(cache: ResponseCache, path: str = "/runs") -> bytes:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "state": {}}
    await cache(scope, receive, send)
    return bytes(sent[-1]["body"])


def test_a_live_answer_is_kept_only_briefly_and_an_unmarked_one_never() -> None:
    clock, revision = Clock(), [1]
    live_calls: list[str] = []
    live = ResponseCache(_app(live_calls, LIVE_SECONDS), revision=lambda: revision[0], clock=clock)
    assert asyncio.run(_get(live)) == asyncio.run(_get(live)) == b"answer 1"
    clock.now += LIVE_SECONDS
    assert asyncio.run(_get(live)) == b"answer 2"
    revision[0] = 2
    assert asyncio.run(_get(live)) == b"answer 3"

    unmarked_calls: list[str] = []
    unmarked = ResponseCache(_app(unmarked_calls, False), revision=lambda: 1, clock=clock)
    asyncio.run(_get(unmarked))
    asyncio.run(_get(unmarked))
    assert len(unmarked_calls) == 2 and len(unmarked) == 0


def test_concurrent_misses_build_once_and_other_paths_pass_through() -> None:
    calls: list[str] = []
    cache = ResponseCache(_app(calls, None, delay=0.05), revision=lambda: 1)

    async def many() -> list[bytes]:
        return list(await asyncio.gather(*(_get(cache) for _ in range(10))))

    assert asyncio.run(many()) == [b"answer 1"] * 10
    assert calls == ["/runs"]
    asyncio.run(_get(cache, "/runs/x/events"))
    asyncio.run(_get(cache, "/runs/x/events"))
    assert calls == ["/runs", "/runs/x/events", "/runs/x/events"]


def test_the_cache_stays_within_its_entry_and_byte_limits() -> None:
    calls: list[str] = []
    cache = ResponseCache(_app(calls, None), revision=lambda: 1, max_entries=3)
    for number in range(6):
        asyncio.run(_get(cache, f"/runs/r{number}"))
    assert len(cache) == 3
    asyncio.run(_get(cache, "/runs/r5"))
    assert len(calls) == 6  # the newest is still there
    asyncio.run(_get(cache, "/runs/r0"))
    assert len(calls) == 7  # the oldest was forgotten


def test_while_a_live_answer_is_rebuilt_others_get_it_but_never_after_a_write() -> None:
    clock, revision = Clock(), [1]
    calls: list[str] = []
    cache = ResponseCache(_app(calls, LIVE_SECONDS, delay=0.05), revision=lambda: revision[0], clock=clock)
    assert asyncio.run(_get(cache)) == b"answer 1"
    clock.now += LIVE_SECONDS  # only the clock moved: the durations shown are older

    async def rebuilding() -> list[bytes]:
        first = asyncio.ensure_future(_get(cache))
        await asyncio.sleep(0.01)  # the rebuild is under way
        return [*(await asyncio.gather(_get(cache), _get(cache))), await first]

    assert asyncio.run(rebuilding()) == [b"answer 1", b"answer 1", b"answer 2"]
    clock.now += LIVE_SECONDS
    revision[0] = 2  # a write: nobody may see an answer built before it

    async def after_a_write() -> list[bytes]:
        first = asyncio.ensure_future(_get(cache))
        await asyncio.sleep(0.01)
        return [*(await asyncio.gather(_get(cache), _get(cache))), await first]

    assert asyncio.run(after_a_write()) == [b"answer 3", b"answer 3", b"answer 3"]
    assert len(calls) == 3
