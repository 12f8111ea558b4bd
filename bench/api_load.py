"""API latency under load: GET /runs and GET /runs/{id} with 50 concurrent clients, while two runs
execute in the worker pool versus with no background work, measured in one run.

`agent serve` runs in a subprocess on loopback with a store seeded with finished runs (one real
cavity run as the detail target, the rest synthetic rows so the list has pages to read). Phase
`idle` loads the API with nothing executing; phase `busy` submits two cavity runs, waits until both
execute, and sends the same load. The load generator shares the machine (2 cores here) with the
server and the solvers, as it would on a laptop. Prints p50/p99 per endpoint and phase, and the
busy/idle ratios.

Usage: .venv/bin/python bench/api_load.py [--clients 50] [--requests 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from runs import RunStore, TaskSpec

REPO = Path(__file__).resolve().parent.parent
SMALL = {"task": "cfd/cavity", "params": {"re": 100, "cells": 16, "convective_times": 3}, "budget": 1}
BUSY = {"task": "cfd/cavity", "params": {"re": 100, "cells": 64, "convective_times": 40}, "budget": 1, "workers": 1}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(home: Path, count: int) -> None:
    store = RunStore(home)
    task = TaskSpec(id="cfd/cavity", workload="cfd", params={"case": "cavity"})
    for index in range(count):
        run = store.create_run(task)
        store.update_run(run.id, status="finished", accepted=index % 3, rejected=1)
    store.engine.dispose()


def wait_for(client: httpx.Client, run_id: str, statuses: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(client.get(f"/runs/{run_id}").json()["status"])
        if status in statuses:
            return status
        time.sleep(0.3)
    raise SystemExit(f"run {run_id} did not reach {statuses} within {timeout:g} s")


def executing(client: httpx.Client, run_id: str) -> bool:
    detail = client.get(f"/runs/{run_id}").json()
    return bool(detail["status"] == "running" and detail["experiments"])


async def load(url: str, detail_id: str, clients: int, requests: int) -> dict[str, list[float]]:
    """Latencies per endpoint; a request whose connection broke is retried once and counted."""
    timings: dict[str, list[float]] = {"GET /runs": [], "GET /runs/{id}": [], "retried": []}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def one_client(number: int) -> None:
            for index in range(requests):
                name, path = (
                    ("GET /runs", "/runs?limit=50")
                    if (number + index) % 2 == 0
                    else ("GET /runs/{id}", f"/runs/{detail_id}")
                )
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.TransportError:
                    timings["retried"].append(0.0)
                    response = await client.get(path)
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                timings[name].append(elapsed)

        await asyncio.gather(*(one_client(number) for number in range(clients)))
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per client and phase")
    parser.add_argument("--seeded-runs", type=int, default=300)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="labgate-api-load-"))
    seed(home, args.seeded_runs)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=REPO,
        env={**os.environ, "LABGATE_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 90
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"agent serve exited with {server.returncode}; see {home / 'serve.log'}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("agent serve did not answer /healthz within 90 s")
                time.sleep(0.2)
            detail_id = client.post("/runs", json=SMALL).json()["run_id"]
            wait_for(client, detail_id, {"finished", "failed"}, 300)
            print(f"store: {args.seeded_runs + 1} runs; detail target {detail_id} (a real cavity run)", flush=True)

            asyncio.run(load(url, detail_id, args.clients, 2))  # warm-up
            results["idle"] = asyncio.run(load(url, detail_id, args.clients, args.requests))

            busy = [client.post("/runs", json=BUSY).json()["run_id"] for _ in range(2)]
            deadline = time.monotonic() + 120
            while not all(executing(client, run_id) for run_id in busy):
                if time.monotonic() > deadline:
                    raise SystemExit("the two background runs did not start executing")
                time.sleep(0.3)
            results["busy"] = asyncio.run(load(url, detail_id, args.clients, args.requests))
            still = [executing(client, run_id) for run_id in busy]
            print(f"background runs still executing at the end of the busy phase: {sum(still)} of 2", flush=True)
            for run_id in busy:
                client.post(f"/runs/{run_id}/cancel")
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()

    print(f"\n{args.clients} concurrent clients, {args.requests} requests each per phase (half to each endpoint)")
    print(f"{'endpoint':<16} {'phase':<6} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}")
    for name in ("GET /runs", "GET /runs/{id}"):
        for phase in ("idle", "busy"):
            values = results[phase][name]
            print(
                f"{name:<16} {phase:<6} {len(values):>5} {percentile(values, 0.5) * 1000:>9.1f} "
                f"{percentile(values, 0.99) * 1000:>9.1f} {statistics.fmean(values) * 1000:>9.1f}"
            )
    print(
        f"requests retried after a broken connection: idle {len(results['idle']['retried'])}, "
        f"busy {len(results['busy']['retried'])}"
    )
    print("\nbusy / idle ratios:")
    for name in ("GET /runs", "GET /runs/{id}"):
        idle, busy_values = results["idle"][name], results["busy"][name]
        print(
            f"  {name:<16} p50 {percentile(busy_values, 0.5) / percentile(idle, 0.5):.2f}   "
            f"p99 {percentile(busy_values, 0.99) / percentile(idle, 0.99):.2f}"
        )
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
