"""The embedded engine: one capability over many inputs, asyncio in one process.

Memory does not grow with the number of inputs: the input is streamed, at most `concurrency`
calls run at once, at most `max_delayed` inputs wait for a retry, and what is done lives in the
sink (which is also the checkpoint), never in a set in memory.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._telemetry import retried
from ..errors import CaudalError, ChallengeRequired
from ..runtime._retry import advised_delay
from ._inputs import BulkInput, read_jsonl
from ._limit import RateLimit, RateLimiter
from ._outcome import Outcome
from ._sinks import Sink

if TYPE_CHECKING:
    from ..connector import Connector
    from ..model import Pending, Result

__all__ = ["Retries", "Summary", "arun", "retry_delay", "run"]


@dataclass(frozen=True)
class Retries:
    """How the engine retries an input, by its error's own advice.

    `now` errors are retried after an exponential backoff (at least the provider's
    `Retry-After`), `later` errors after their advised delay; the input waits outside the
    concurrency cap meanwhile. A delay longer than `max_delay` is not waited for: the error is
    recorded, and a later run can try again. `never`, `after_notification` and a challenge are
    recorded at once.
    """

    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_delay: float = 600.0


def retry_delay(
    error: CaudalError, attempt: int, retries: Retries, rng: random.Random | None = None
) -> float | None:
    """Seconds before `attempt + 1`, or None when the error is final."""
    if isinstance(error, ChallengeRequired) or attempt >= retries.max_attempts:
        return None
    delay = advised_delay(error, attempt, retries.backoff, retries.max_backoff, rng)
    return delay if delay is not None and delay <= retries.max_delay else None


@dataclass
class Summary:
    """What a run did. `done` counts the outcomes written by this run; `skipped` the inputs a
    resumed run found already completed; `rate` the calls per second achieved."""

    ok: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    challenges: int = 0
    skipped: int = 0
    duplicates: int = 0
    retries: int = 0
    calls: int = 0
    rate_waits: int = 0
    rate_waited: float = 0.0
    elapsed: float = 0.0
    total: int | None = None
    """Inputs expected (when known before the run, for an ETA)."""

    @property
    def done(self) -> int:
        return self.ok + sum(self.failed.values()) + self.challenges

    @property
    def rate(self) -> float:
        return self.calls / self.elapsed if self.elapsed > 0 else 0.0

    def count(self, outcome: Outcome) -> None:
        if outcome.status == "ok":
            self.ok += 1
        elif outcome.status == "challenge":
            self.challenges += 1
        else:
            kind = outcome.error_type or "error"
            self.failed[kind] = self.failed.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "ok": self.ok,
            "failed": dict(sorted(self.failed.items())),
            "challenges_pending": self.challenges,
            "skipped_already_done": self.skipped,
            "duplicate_ids": self.duplicates,
            "retries": self.retries,
            "calls": self.calls,
            "rate_limit_waits": self.rate_waits,
            "rate_limit_waited_seconds": round(self.rate_waited, 3),
            "elapsed_seconds": round(self.elapsed, 3),
            "achieved_rate": round(self.rate, 3),
        }


@dataclass(order=True)
class _Delayed:
    due: float
    seq: int
    item: BulkInput = field(compare=False)
    attempt: int = field(compare=False)


class _Run:
    """The scheduling state of one run; `main` is its loop."""

    def __init__(
        self,
        connector: Connector,
        capability: str,
        sink: Sink,
        limiter: RateLimiter | None,
        concurrency: int,
        retries: Retries,
        max_delayed: int,
        summary: Summary,
        on_progress: Callable[[Summary], None] | None,
    ) -> None:
        self.connector, self.capability, self.sink = connector, capability, sink
        self.limiter, self.concurrency, self.retries = limiter, concurrency, retries
        self.max_delayed, self.summary, self.on_progress = max_delayed, summary, on_progress
        self.running: dict[asyncio.Task[Result[Any] | Pending], tuple[BulkInput, int]] = {}
        self.delayed: list[_Delayed] = []
        self.active: set[str] = set()  # ids running or waiting: at most concurrency + max_delayed
        self.seq = 0
        self.started = time.monotonic()

    async def call(self, item: BulkInput) -> Result[Any] | Pending:
        if self.limiter is not None:
            await self.limiter.acquire(item.params)
        return await self.connector.acall(self.capability, item.params)

    def start(self, item: BulkInput, attempt: int) -> None:
        task = asyncio.ensure_future(self.call(item))
        self.running[task] = (item, attempt)

    def admit(self, item: BulkInput) -> bool:
        """Whether a fresh input is to be run (not done already, not a repeated id)."""
        if item.id in self.active:
            self.summary.duplicates += 1
            return False
        if self.sink.completed(item.id):
            self.summary.skipped += 1
            return False
        self.active.add(item.id)
        return True

    def fill(self, source: Iterator[BulkInput]) -> bool:
        """Start calls up to the cap: due retries first, then fresh inputs. False once the
        source is exhausted."""
        while len(self.running) < self.concurrency:
            if self.delayed and self.delayed[0].due <= time.monotonic():
                due = heapq.heappop(self.delayed)
                self.start(due.item, due.attempt)
            elif len(self.delayed) < self.max_delayed:
                item = next(source, None)
                if item is None:
                    return False
                if self.admit(item):
                    self.start(item, 1)
            else:
                break
        return True

    def finish(self, task: asyncio.Task[Result[Any] | Pending]) -> None:
        item, attempt = self.running.pop(task)
        self.summary.calls += 1
        try:
            outcome = Outcome.ok(item.id, task.result(), attempt)
        except CaudalError as error:
            delay = retry_delay(error, attempt, self.retries)
            if delay is not None:
                retried(self.connector.name, self.capability)
                self.summary.retries += 1
                self.seq += 1
                due = _Delayed(time.monotonic() + delay, self.seq, item, attempt + 1)
                heapq.heappush(self.delayed, due)
                return
            outcome = Outcome.failed(item.id, error, attempt)
        self.sink.write(outcome)
        self.active.discard(item.id)
        self.summary.count(outcome)
        self.progress()

    def progress(self) -> None:
        self.summary.elapsed = time.monotonic() - self.started
        if self.limiter is not None:
            self.summary.rate_waits = self.limiter.waits
            self.summary.rate_waited = self.limiter.waited
        if self.on_progress is not None:
            self.on_progress(self.summary)

    async def main(self, source: Iterator[BulkInput]) -> None:
        more = True
        try:
            while True:
                more = self.fill(source if more else iter(()))
                if not self.running and not self.delayed and not more:
                    break
                timeout = max(self.delayed[0].due - time.monotonic(), 0) if self.delayed else None
                if not self.running:
                    await asyncio.sleep(timeout or 0)
                    continue
                finished, _ = await asyncio.wait(
                    self.running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in finished:
                    self.finish(task)
        finally:
            for task in self.running:
                task.cancel()
            await asyncio.gather(*self.running, return_exceptions=True)
            self.progress()


def _inputs(inputs: Iterable[BulkInput] | str | Path) -> Iterator[BulkInput]:
    if isinstance(inputs, str | Path):
        return read_jsonl(inputs)
    return iter(inputs)


async def arun(
    connector: Connector,
    capability: str,
    inputs: Iterable[BulkInput] | str | Path,
    sink: Sink,
    *,
    rate: RateLimit | float | None = None,
    concurrency: int = 8,
    retries: Retries | None = None,
    max_delayed: int | None = None,
    total: int | None = None,
    on_progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Run `capability` of `connector` once per input, writing one outcome per id to `sink`.

    `inputs` is an iterable of `BulkInput` or the path of a JSONL file of them, streamed.
    Inputs the sink already holds are skipped (that is how a killed run resumes). Build the
    connector with `max_attempts=1` so every retry is the engine's (scheduled outside the
    concurrency cap) rather than a sleep inside a call. A bug (an exception that is not a
    `CaudalError`) stops the run; what was written stays written.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    connector.operation(capability)  # an unsupported capability fails before any input is read
    connector.settings  # noqa: B018 - missing settings fail here, not once per input
    if isinstance(rate, int | float):
        rate = RateLimit(float(rate))
    limiter = RateLimiter(rate, connector.name) if rate is not None else None
    summary = Summary(total=total)
    run_ = _Run(
        connector,
        capability,
        sink,
        limiter,
        concurrency,
        retries or Retries(),
        max_delayed if max_delayed is not None else max(4 * concurrency, 64),
        summary,
        on_progress,
    )
    await run_.main(_inputs(inputs))
    return summary


def run(
    connector: Connector,
    capability: str,
    inputs: Iterable[BulkInput] | str | Path,
    sink: Sink,
    **options: Any,
) -> Summary:
    """`arun` on a fresh event loop, for scripts that are not async."""
    return asyncio.run(arun(connector, capability, inputs, sink, **options))
