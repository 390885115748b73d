"""Streaming a long transaction history page by page: memory stays flat as the history grows.

`conn.iter_transactions(link=..., stored=True)` against the Belvo emulator (in its own process,
so its allocations are not counted), for a short and a ten times longer history: the peak of
Python allocations (tracemalloc) while every record is consumed. Streaming keeps one page in
memory, so the longer history must peak within 1.2x of the shorter one (a gathering call would
grow tenfold).
"""

from __future__ import annotations

import gc
import tracemalloc

from ._core import Entry, Results

__all__ = ["run"]


def _peak(url: str, transactions: int, page_size: int) -> tuple[int, int]:
    """(peak bytes, records seen) while streaming `transactions` records."""
    from caudal import registry

    settings = {
        "base_url": f"{url}/belvo",
        "secret_id": "caudal-sandbox-id",
        "secret_password": "caudal-sandbox-password",
        "read_timeout": 120.0,
    }
    with registry.get("belvo.br", **settings) as conn:
        # Warm up (pools, imports, caches) before measuring: the first page pays for them.
        for _ in conn.iter_transactions(link="many-5", stored=True):
            pass
        gc.collect()  # every measurement starts from the same heap, no garbage left over
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            seen = 0
            link = f"many-{transactions}-bench"
            for _ in conn.iter_transactions(link=link, stored=True, page_size=page_size):
                seen += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, seen


def run(results: Results, *, smoke: bool) -> None:
    from .calls import server_process

    short, long_, page = (200, 2_000, 100) if smoke else (10_000, 100_000, 1_000)
    with server_process("sandbox") as url:
        small, seen_small = _peak(url, short, page)
        large, seen_large = _peak(url, long_, page)
    assert (seen_small, seen_large) == (short, long_), (seen_small, seen_large)
    results.add(
        Entry(
            f"streaming belvo.br transactions: peak memory, {long_:,} vs {short:,} records "
            f"(pages of {page})",
            large / 2**20,
            "MiB",
            baseline=small / 2**20,
            baseline_name=f"{short:,} records",
            goal_op="<=",
            goal=1.2,
        )
    )
