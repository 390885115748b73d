"""The distributed engine: the same job as Celery tasks on a Redis broker (`caudal[celery]`).

One task per input. The rate limit lives in Redis (the limiter the embedded engine uses, with
a Redis storage), so every worker draws from one quota; Celery's own `rate_limit` is per
worker and could not. Outcomes go to a `RedisSink` (written once per id, atomically). A retry
the error advises is a Celery retry with the advised countdown, so it holds no worker.
Messages are acknowledged late and rejected when their worker dies: a killed worker's task
is delivered again (after the broker's visibility timeout) and, if it had finished, finds its
id done and stops.

Worker processes get the connector's settings from their own environment (as `caudal fetch`
does); nothing secret of the connector crosses the broker. The inputs' parameters do (an
end user's credential, for some connectors): protect the broker as you protect them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from .._telemetry import retried
from ..errors import CaudalError, ConfigurationError
from ..mapping import load_json
from ._engine import Retries, Summary, retry_delay
from ._inputs import BulkInput, exact_json
from ._limit import RateLimit, RateLimiter
from ._outcome import Outcome
from ._redis import RedisSink
from ._sinks import Sink

if TYPE_CHECKING:
    from ..connector import Connector

__all__ = ["TASK", "VISIBILITY_TIMEOUT_ENV", "Job", "celery_app", "job_id", "run_on_celery"]

TASK = "caudal.bulk.call"
QUEUE = "caudal-bulk"
log = logging.getLogger("caudal.bulk")
VISIBILITY_TIMEOUT_ENV = "CAUDAL_BULK_VISIBILITY_TIMEOUT"
"""Seconds before a message taken by a worker that died is delivered again (default 3600). It
must exceed the longest call plus the longest retry countdown, or a live task is repeated."""


@dataclass(frozen=True)
class Job:
    """What every task of a run needs to know (no secret: settings come from the worker's
    environment). `store` and `rate_storage` default to the broker's own Redis, which the
    workers know already: a broker URL with a password never travels in a message."""

    job: str
    connector: str
    capability: str
    store: str | None = None
    rate: float | None = None
    rate_storage: str | None = None
    max_attempts: int = 5

    @property
    def retries(self) -> Retries:
        return Retries(max_attempts=self.max_attempts)


def job_id(*parts: str) -> str:
    """A stable job name from what identifies a run (its output file, say): a resumed run
    finds its job's outcomes again."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def celery_app(broker: str) -> Any:
    """The Celery app of bulk runs on `broker` (a Redis URL), with the task registered."""
    try:
        from celery import Celery
    except ImportError:
        raise ConfigurationError(
            "the celery engine needs Celery: pip install 'caudal[celery]'"
        ) from None
    app = Celery("caudal.bulk", broker=broker, set_as_current=False)
    visibility = float(os.environ.get(VISIBILITY_TIMEOUT_ENV, "3600"))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=QUEUE,
        # kombu sweeps for a dead worker's messages every interval x throttle seconds (100 by
        # default): one sweep per interval, a third of the timeout, so recovery takes about
        # the timeout itself.
        broker_transport_options={
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, int(visibility / 3))),
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK, bind=True, max_retries=None)(_call)
    return app


# -- the worker side --------------------------------------------------------------------------


@cache
def _loop() -> asyncio.AbstractEventLoop:
    """One event loop per worker process: the connector's pools and the limiter live on it."""
    return asyncio.new_event_loop()


@cache
def _connector(name: str) -> Connector:
    from .. import registry

    return registry.get(name, max_attempts=1)  # every retry is a Celery retry


@cache
def _sink(store: str, job: str) -> RedisSink:
    return RedisSink(store, job)


@cache
def _limiter(limit: RateLimit, connector: str) -> RateLimiter:
    return RateLimiter(limit, connector)


async def _attempt(job: Job, store: str, params: dict[str, Any]) -> tuple[Any, float]:
    waited = 0.0
    if job.rate is not None:
        storage = job.rate_storage or store
        waited = await _limiter(RateLimit(job.rate, storage=storage), job.connector).acquire(params)
    return await _connector(job.connector).acall(job.capability, params), waited


def _call(task: Any, spec: dict[str, Any], ident: str, params: str, attempt: int = 1) -> str:
    """One input's call: its outcome stored once, or a Celery retry as the error advises."""
    job = Job(**spec)
    store = job.store or str(task.app.conf.broker_url)
    sink = _sink(store, job.job)
    if sink.completed(ident):
        return "already done"
    try:
        result, waited = _loop().run_until_complete(_attempt(job, store, load_json(params)))
        outcome = Outcome.ok(ident, result, attempt)
    except CaudalError as error:
        sink.count("calls")
        delay = retry_delay(error, attempt, job.retries)
        if delay is not None:
            retried(job.connector, job.capability)
            sink.count("retries")
            again = {"spec": spec, "ident": ident, "params": params, "attempt": attempt + 1}
            raise task.retry(args=(), kwargs=again, countdown=delay) from None
        outcome = Outcome.failed(ident, error, attempt)
    except Exception as bug:  # a task cannot stop the run: the id gets its outcome anyway
        log.error("bulk task %s: unexpected %s", ident, type(bug).__name__, exc_info=True)
        sink.count("calls")
        outcome = Outcome.crashed(ident, bug, attempt)
    else:
        sink.count("calls")
        if waited > 0.001:
            sink.count("rate_waits")
    return "stored" if sink.add(outcome) else "already done"


# -- the submitting side ----------------------------------------------------------------------


def _summary(sink: RedisSink, summary: Summary, started: float) -> Summary:
    counts = sink.counts()
    summary.ok = counts.get("ok", 0)
    summary.challenges = counts.get("challenge", 0)
    summary.failed = {k[6:]: v for k, v in counts.items() if k.startswith("error:")}
    summary.calls = counts.get("calls", 0)
    summary.retries = counts.get("retries", 0)
    summary.rate_waits = counts.get("rate_waits", 0)
    summary.elapsed = time.monotonic() - started
    return summary


def run_on_celery(
    job: Job,
    broker: str,
    inputs: Iterable[BulkInput],
    out: Sink,
    *,
    resume: bool = False,
    total: int | None = None,
    stall_timeout: float = 900.0,
    poll: float = 0.2,
    on_progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Queue one task per input `out` does not hold yet, wait until every one has its outcome
    in the job store, then copy the outcomes into `out` and drop the job's keys.

    Raises a `ConfigurationError` if no outcome arrives for `stall_timeout` seconds (no worker
    running?); the job stays queued, and the same command with `resume=True` picks it up.
    """
    app = celery_app(broker)
    if job.rate is not None:  # a wrong rate or storage fails here, not once per input
        storage = job.rate_storage or job.store or broker
        RateLimiter(RateLimit(job.rate, storage=storage), job.connector)
    store = RedisSink(job.store or broker, job.job)
    try:
        if store.has_data() and not resume:
            raise ConfigurationError("this job already has queued work: resume it (--resume)")
        summary = Summary(total=total)
        started = time.monotonic()
        for item in inputs:
            if out.completed(item.id):
                summary.skipped += 1
            elif not store.submit(item.id):
                summary.duplicates += 1
            else:
                kwargs = {"spec": asdict(job), "ident": item.id, "params": exact_json(item.params)}
                app.send_task(TASK, kwargs=kwargs, queue=QUEUE)
        _wait(store, summary, started, stall_timeout, poll, on_progress)
        for line in store.lines():
            outcome = Outcome.from_line(line)
            if not out.completed(outcome.id):
                out.write(outcome)
        final = _summary(store, summary, started)
        store.drop()
        return final
    finally:
        store.close()


def _wait(
    store: RedisSink,
    summary: Summary,
    started: float,
    stall_timeout: float,
    poll: float,
    on_progress: Callable[[Summary], None] | None,
) -> None:
    last, last_change = -1, time.monotonic()
    while True:
        stored, submitted = store.progress()
        _summary(store, summary, started)
        if on_progress is not None:
            on_progress(summary)
        if stored >= submitted:
            return
        if stored != last:
            last, last_change = stored, time.monotonic()
        elif time.monotonic() - last_change > stall_timeout:
            raise ConfigurationError(
                f"no outcome for {stall_timeout:.0f} s ({stored} of {submitted} done): are "
                "workers running (caudal worker --broker URL)? Rerun with --resume to wait on"
            )
        time.sleep(poll)
