"""Calls over real HTTP on 127.0.0.1: the sync call overhead and the async fan-out.

The server runs in its own process: a minimal asyncio HTTP server answering with the Belvo
emulator's body (so the figures are the client's), and for one more overhead figure caudal's
sandbox itself (uvicorn + starlette + the Belvo emulator). Baselines send the very same
requests to the very same server:

- sync overhead: `registry.get("belvo.br").balance(link=...)` vs a bare `httpx.Client` POST with
  the same JSON and basic auth, then `json.loads` of the body;
- fan-out: `abalance` calls, k in flight, on links that make the emulator wait 100 ms before it
  answers (`slow-0.1`), vs the ideal rate (k / 100 ms), vs a bare `httpx.AsyncClient` making the
  same requests with k in flight, and vs sequential sync calls.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ._core import Entry, Results

__all__ = ["run"]

PATH = "/api/br/balances/"


@contextmanager
def server_process(kind: str) -> Iterator[str]:
    """A loopback server (`sandbox` or `minimal`, see `bench._server`) in a child process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._server", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"{kind} server did not start: {url!r}")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _belvo(url: str) -> tuple[dict[str, Any], httpx.BasicAuth]:
    from caudal_belvo.emulator import SECRET_ID, SECRET_PASSWORD

    settings = {
        "base_url": f"{url}/belvo",
        "secret_id": SECRET_ID,
        "secret_password": SECRET_PASSWORD,
    }
    return settings, httpx.BasicAuth(SECRET_ID, SECRET_PASSWORD)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sync_overhead(
    results: Results, url: str, *, rounds: int, calls: int, server: str, goal: bool
) -> None:
    from caudal import registry
    from caudal_belvo.emulator import EXAMPLE_LINK

    settings, auth = _belvo(url)
    conn = registry.get("belvo.br", **settings)
    bare = httpx.Client(base_url=settings["base_url"], auth=auth, trust_env=False)
    payload = {"link": EXAMPLE_LINK}

    def with_caudal() -> None:
        for _ in range(calls):
            conn.balance(link=EXAMPLE_LINK)

    def with_httpx() -> None:
        for _ in range(calls):
            response = bare.post(PATH, json=payload)
            response.raise_for_status()
            json.loads(response.content)

    with_caudal(), with_httpx()  # warm both pools and code paths
    caudal_rounds, bare_rounds = [], []
    for _ in range(rounds):  # short interleaved rounds: drift in the machine's load hits both
        caudal_rounds.append(_timed(with_caudal) / calls)
        bare_rounds.append(_timed(with_httpx) / calls)
    n = rounds * calls
    t_caudal, t_bare = statistics.median(caudal_rounds), statistics.median(bare_rounds)
    results.add(
        Entry(
            f"call overhead sync: belvo.br balance, {n} calls, {server}",
            t_caudal * 1e3,
            "ms/call",
            baseline=t_bare * 1e3,
            baseline_name="bare httpx.Client + json.loads",
            goal_op="<=" if goal else None,
            goal=1.15 if goal else None,
        )
    )
    conn.close()
    bare.close()


async def _workers(in_flight: int, total: int, call: Callable[[int], Awaitable[object]]) -> float:
    """`total` calls, exactly `in_flight` at a time; seconds taken."""
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            await call(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return time.perf_counter() - start


def _caudal_async(settings: dict[str, Any], link: str, in_flight: int, total: int) -> float:
    from caudal import registry

    async def main() -> float:
        conn = registry.get("belvo.br", **settings)
        try:
            await _workers(in_flight, in_flight, lambda i: conn.abalance(link=link))  # warm
            return await _workers(in_flight, total, lambda i: conn.abalance(link=link))
        finally:
            await conn.aclose()

    return asyncio.run(main())


def _bare_async(
    base_url: str, auth: httpx.BasicAuth, link: str, in_flight: int, total: int, pools: int = 1
) -> float:
    async def main() -> float:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        clients = [
            httpx.AsyncClient(base_url=base_url, auth=auth, limits=limits, trust_env=False)
            for _ in range(pools)
        ]
        payload = {"link": link}

        async def one(i: int) -> None:
            response = await clients[i % pools].post(PATH, json=payload)
            response.raise_for_status()
            json.loads(response.content)

        try:
            await _workers(in_flight, in_flight, one)
            return await _workers(in_flight, total, one)
        finally:
            for client in clients:
                await client.aclose()

    return asyncio.run(main())


def fan_out(
    results: Results, url: str, *, latency: float, totals: dict[int, int], seq: int
) -> None:
    from caudal import registry

    settings, auth = _belvo(url)
    link = f"slow-{latency:g}-bench"
    for in_flight, total in totals.items():
        ideal = in_flight / latency
        t_caudal = _caudal_async(settings, link, in_flight, total)
        t_bare = _bare_async(settings["base_url"], auth, link, in_flight, total)
        label = (
            f"fan-out async: {total} abalance calls, {in_flight} in flight, {latency * 1e3:g} ms"
        )
        main_case = in_flight == max(totals)
        results.add(
            Entry(
                f"{label}: vs ideal",
                total / t_caudal,
                "calls/s",
                baseline=ideal,
                baseline_name=f"ideal {in_flight}/latency",
                goal_op=">=" if main_case else None,
                goal=0.85 if main_case else None,
            )
        )
        results.add(
            Entry(
                f"{label}: vs bare httpx",
                t_caudal,
                "s",
                baseline=t_bare,
                baseline_name="bare httpx.AsyncClient",
                goal_op="<=" if main_case else None,
                goal=1.1 if main_case else None,
            )
        )
        if main_case:
            caudal_rate = total / t_caudal
            pools = 8
            t_pools = _bare_async(settings["base_url"], auth, link, in_flight, total, pools=pools)
            results.add(
                Entry(
                    f"{label}: vs bare httpx, {pools} clients",
                    t_caudal,
                    "s",
                    baseline=t_pools,
                    baseline_name=f"{pools} bare httpx.AsyncClients, round robin",
                    note="reported, no goal: the bare baseline given caudal's own pooling",
                )
            )
    conn = registry.get("belvo.br", **settings)
    conn.balance(link=link)
    t_seq = _timed(lambda: [conn.balance(link=link) for _ in range(seq)])
    conn.close()
    results.add(
        Entry(
            f"fan-out async, {max(totals)} in flight: vs sequential sync ({seq} calls)",
            caudal_rate,
            "calls/s",
            baseline=seq / t_seq,
            baseline_name="sequential conn.balance",
            goal_op=">=",
            goal=30,
        )
    )


def run(results: Results, *, smoke: bool) -> None:
    rounds, calls = (2, 5) if smoke else (60, 25)
    with server_process("minimal") as url:
        sync_overhead(results, url, rounds=rounds, calls=calls, server="minimal server", goal=True)
        if smoke:
            fan_out(results, url, latency=0.01, totals={1: 3, 4: 8}, seq=3)
        else:
            fan_out(results, url, latency=0.1, totals={1: 20, 8: 160, 64: 2000}, seq=100)
    with server_process("sandbox") as url:
        sync_overhead(
            results, url, rounds=rounds, calls=calls, server="sandbox emulator", goal=False
        )
