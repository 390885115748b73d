"""Calls over real HTTP on 127.0.0.1: the sync call overhead and the async fan-out.

The server is caudal's sandbox (the Belvo emulator, `POST /belvo/api/br/balances/`) in its own
process. Baselines send the very same requests to the very same server:

- sync overhead: `registry.get("belvo.br").balance(link=...)` vs a bare `httpx.Client` POST with
  the same JSON and basic auth, then `json.loads` of the body;
- fan-out: `abalance` calls, k in flight, on links that make the emulator wait 100 ms before it
  answers (`slow-0.1`), vs the ideal rate (k / 100 ms), vs a bare `httpx.AsyncClient` making the
  same requests with k in flight, and vs sequential sync calls.
"""

from __future__ import annotations

import asyncio
import json
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
def sandbox_process() -> Iterator[str]:
    """caudal's sandbox in a child process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"sandbox did not start: {url!r}")
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


def sync_overhead(results: Results, url: str, *, rounds: int, calls: int) -> None:
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
    t_caudal = t_bare = 0.0
    for _ in range(rounds):  # interleaved, so drift in the machine's load hits both
        t_caudal += _timed(with_caudal)
        t_bare += _timed(with_httpx)
    n = rounds * calls
    results.add(
        Entry(
            f"call overhead sync: belvo.br balance, {n} calls",
            t_caudal / n * 1e3,
            "ms/call",
            baseline=t_bare / n * 1e3,
            baseline_name="bare httpx.Client + json.loads",
            goal_op="<=",
            goal=1.15,
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
    with sandbox_process() as url:
        sync_overhead(results, url, rounds=2 if smoke else 5, calls=5 if smoke else 100)
        if smoke:
            fan_out(results, url, latency=0.01, totals={1: 3, 4: 8}, seq=3)
        else:
            fan_out(results, url, latency=0.1, totals={1: 20, 8: 160, 64: 2000}, seq=100)
