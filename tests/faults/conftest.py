"""The catalogue's summary: faults tried, right typed errors, worst time over the deadline and
worst memory-to-limit ratio, printed after the run (and written to `CAUDAL_FAULTS_SUMMARY`,
which `make faults` sets to tests/faults/SUMMARY.txt)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .catalogue import LIMIT, PACE, SLOW, THIEF
from .hostile import HostileServer


@dataclass(frozen=True)
class Outcome:
    case: str
    target: str
    mode: str
    expected: str
    got: str
    elapsed: float
    deadline: float
    peak: int | None

    @property
    def right(self) -> bool:
        return self.expected == self.got


OUTCOMES: list[Outcome] = []


@pytest.fixture(scope="session")
def thief() -> Iterator[HostileServer]:
    """Another host (127.0.0.2) that redirects point to; it must never see a request."""
    with HostileServer({}, host="127.0.0.2") as server:
        THIEF[:] = [server.url]
        yield server


def summary() -> str:
    if not OUTCOMES:
        return ""
    right = sum(o.right for o in OUTCOMES)
    over = max(o.elapsed - o.deadline for o in OUTCOMES)
    peaks = [o for o in OUTCOMES if o.peak is not None]
    worst = max(peaks, key=lambda o: o.peak or 0, default=None)
    lines = [
        f"fault catalogue ({'slow' if SLOW else 'fast'} pace: read_timeout={PACE.read_timeout:g}s,"
        f" deadline={PACE.deadline:g}s, drip every {PACE.interval:g}s,"
        f" max_response_bytes={LIMIT}, bombs of {PACE.bomb_mib} MiB)",
        f"calls tried: {len(OUTCOMES)} ({len({o.case for o in OUTCOMES})} faults x targets x"
        " sync/async)",
        f"right typed error: {right} of {len(OUTCOMES)}",
        f"largest time over the deadline: {over:+.2f}s"
        f" (slowest call {max(o.elapsed for o in OUTCOMES):.2f}s)",
    ]
    if worst is not None and worst.peak is not None:
        lines.append(
            f"largest peak memory of a call / max_response_bytes: {worst.peak / LIMIT:.2f}"
            f" ({worst.case}, {worst.target}, {worst.mode})"
        )
    lines.append("")
    lines.append(
        f"{'fault':40} {'target':17} {'mode':5} {'error':15} {'seconds':>7} {'peak/limit':>10}"
    )
    for o in sorted(OUTCOMES, key=lambda o: (o.case, o.target, o.mode)):
        ratio = "" if o.peak is None else f"{o.peak / LIMIT:.2f}"
        mark = "" if o.right else f"  (expected {o.expected})"
        lines.append(
            f"{o.case:40} {o.target:17} {o.mode:5} {o.got:15} {o.elapsed:7.2f} {ratio:>10}{mark}"
        )
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    text = summary()
    if not text:
        return
    target = os.environ.get("CAUDAL_FAULTS_SUMMARY")
    if target:
        Path(target).write_text(text)
    head = text.split("\n\n")[0]
    terminalreporter.write_sep("-", "fault catalogue")
    terminalreporter.write_line(text if target else head)
