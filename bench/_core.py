"""What every benchmark case shares: timing, the results file and the table.

Every figure is a ratio to a baseline measured in the same run on the same machine: absolute
times move with the machine and its load, ratios much less.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["Entry", "Results", "best_of", "machine", "median_of"]

Op = Literal[">=", "<=", "=="]


@dataclass
class Entry:
    """One line of the table and of `results.json`.

    `ratio` is `value / baseline` (for a rate, higher is better; for a time, lower is). The goal
    is on the ratio unless `goal_on` says `value` (an absolute bound, e.g. milliseconds).
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str | None = None
    goal_op: Op | None = None
    goal: float | None = None
    goal_on: Literal["ratio", "value"] = "ratio"
    note: str = ""
    ratio: float | None = field(init=False, default=None)
    met: bool | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.baseline:
            self.ratio = self.value / self.baseline
        if self.goal_op is not None and self.goal is not None:
            subject = self.ratio if self.goal_on == "ratio" else self.value
            if subject is not None:
                checks = {">=": subject >= self.goal, "<=": subject <= self.goal}
                self.met = bool(checks.get(self.goal_op, subject == self.goal))

    def goal_text(self) -> str:
        if self.goal_op is None or self.goal is None:
            return ""
        if self.goal_on == "value":
            return f"{self.goal_op} {self.goal:g} {self.unit}"
        return f"{self.goal_op} {self.goal:g}x"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["name"], data["goal_op"], data["goal_on"]
        data["goal"] = self.goal_text() or None
        return data


class Results:
    """Entries in the order they were measured; written as `name -> entry` JSON."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> Entry:
        self.entries[entry.name] = entry
        print(f"  {entry.name}: {_fmt(entry.value)} {entry.unit}", end="", flush=True)
        if entry.ratio is not None:
            print(f"  ratio {entry.ratio:.2f} vs {entry.baseline_name}", end="")
        print(f"  {'' if entry.met is None else ('met' if entry.met else 'NOT MET')}", flush=True)
        return entry

    def write(self, path: Path, meta: dict[str, Any]) -> None:
        data = {"_meta": meta, **{name: e.as_json() for name, e in self.entries.items()}}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def table(self) -> str:
        head = ("case", "value", "baseline", "ratio", "goal", "met")
        rows = [head]
        for e in self.entries.values():
            base = "" if e.baseline is None else f"{_fmt(e.baseline)} ({e.baseline_name})"
            rows.append(
                (
                    e.name,
                    f"{_fmt(e.value)} {e.unit}",
                    base,
                    "" if e.ratio is None else f"{e.ratio:.2f}",
                    e.goal_text(),
                    "" if e.met is None else ("yes" if e.met else "NO"),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(line.rstrip() for line in lines)


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs, in seconds, each from a collected heap (GC left as it is)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def median_of(samples: list[float]) -> float:
    return statistics.median(samples)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import pydantic
    import pydantic_core

    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
    }
