"""API latency under load: GET /runs and GET /runs/{id} with 50 concurrent clients, while two runs
execute in the worker pool versus with no background work, measured in one run.

`agent serve` runs in a subprocess on loopback with a store seeded with finished runs (one real
cavity run as the detail target, the rest synthetic rows so the list has pages to read). Phase
`idle` loads the API with nothing executing; phase `busy` submits two cavity runs, waits until both
execute, and sends the same load. The load generator shares the machine (2 cores here) with the
server and the solvers, as it would on a laptop: each client is one keep-alive connection, closed
loop (the next request when the last answer arrived), read with a minimal HTTP/1.1 reader so the
generator's own CPU stays small beside the server's. Prints p50/p99 per endpoint and phase, the
requests per second, the CPU per request of the server and of the generator, the store writes
during each phase (each one makes the server rebuild its cached answers), and busy/idle ratios.

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


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just what the bench needs: GET, Content-Length bodies.

    The load generator shares the two cores with the server; httpx's AsyncClient spends about 4 ms
    of CPU per request here (measured), more than the server it measures, so its own queue would be
    the latency reported. Reading a response off a socket costs a few tens of microseconds.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        if "content-length" not in fields:
            raise SystemExit(f"{path}: a response without Content-Length ({fields.get('transfer-encoding')})")
        body = await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load(url: str, detail_id: str, clients: int, requests: int) -> dict[str, list[float]]:
    """Latencies per endpoint, each client on its own connection; a request whose connection broke is
    retried once on a new one and counted."""
    timings: dict[str, list[float]] = {"GET /runs": [], "GET /runs/{id}": [], "retried": []}
    address = httpx.URL(url)
    host, port = str(address.host), int(address.port or 80)

    async def one_client(number: int) -> None:
        connection = Connection(host, port)
        try:
            for index in range(requests):
                name, path = (
                    ("GET /runs", "/runs?limit=50")
                    if (number + index) % 2 == 0
                    else ("GET /runs/{id}", f"/runs/{detail_id}")
                )
                start = time.perf_counter()
                try:
                    status, body = await connection.get(path)
                except (OSError, asyncio.IncompleteReadError):
                    timings["retried"].append(0.0)
                    await connection.close()
                    status, body = await connection.get(path)
                elapsed = time.perf_counter() - start
                if status != 200 or not body.startswith(b"{"):
                    raise SystemExit(f"{path}: {status} {body[:200]!r}")
                timings[name].append(elapsed)
        finally:
            await connection.close()

    await asyncio.gather(*(one_client(number) for number in range(clients)))
    return timings


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of process `pid` (Linux /proc), or None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(
    url: str, detail_id: str, clients: int, requests: int, server: int, store: RunStore
) -> dict[str, list[float]]:
    """`load`, plus the CPU the server and this load generator spent on it and the writes committed
    meanwhile ("cpu": [server, generator, wall]; "writes": [count]): each write makes the server's
    cached answers rebuild."""
    revision = store.revision()
    before = (cpu_seconds(server), time.process_time(), time.perf_counter())
    timings = asyncio.run(load(url, detail_id, clients, requests))
    timings["writes"] = [float(store.revision() - revision)]
    server_before, own_before, wall_before = before
    server_after = cpu_seconds(server)
    spent = server_after - server_before if server_after is not None and server_before is not None else float("nan")
    timings["cpu"] = [spent, time.process_time() - own_before, time.perf_counter() - wall_before]
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
    store = RunStore(home)  # to count the writes committed during each phase
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
            sizes = [len(client.get(path).content) for path in ("/runs?limit=50", f"/runs/{detail_id}")]
            print(
                f"store: {args.seeded_runs + 1} runs; detail target {detail_id} (a real cavity run); "
                f"responses: list {sizes[0] / 1024:.0f} KiB, detail {sizes[1] / 1024:.0f} KiB",
                flush=True,
            )

            asyncio.run(load(url, detail_id, args.clients, 2))  # warm-up
            results["idle"] = measured(url, detail_id, args.clients, args.requests, server.pid, store)

            busy = [client.post("/runs", json=BUSY).json()["run_id"] for _ in range(2)]
            deadline = time.monotonic() + 120
            while not all(executing(client, run_id) for run_id in busy):
                if time.monotonic() > deadline:
                    raise SystemExit("the two background runs did not start executing")
                time.sleep(0.3)
            results["busy"] = measured(url, detail_id, args.clients, args.requests, server.pid, store)
            still = [executing(client, run_id) for run_id in busy]
            print(f"background runs still executing at the end of the busy phase: {sum(still)} of 2", flush=True)
            for run_id in busy:
                client.post(f"/runs/{run_id}/cancel")
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
        store.engine.dispose()

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
    for phase in ("idle", "busy"):
        server_cpu, own_cpu, wall = results[phase]["cpu"]
        count = len(results[phase]["GET /runs"]) + len(results[phase]["GET /runs/{id}"])
        print(
            f"{phase}: {count / wall:.0f} requests/s; CPU per request: server {server_cpu / count * 1000:.2f} ms, "
            f"load generator {own_cpu / count * 1000:.2f} ms; store writes meanwhile: {results[phase]['writes'][0]:.0f}"
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
