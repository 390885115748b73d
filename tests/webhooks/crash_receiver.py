"""The receiver the crash tests run under uvicorn in a process of its own, and kill.

`CAUDAL_CRASH_AT` names the step where it stops (it writes `CAUDAL_CRASH_MARKER` and freezes,
holding everything as it is, until the test SIGKILLs it): `before-claim`, `in-handler`,
`after-handler` (the handler returned, the finish not yet recorded) or `after-finish` (recorded,
not yet answered). The handler journals every start and finish to `CAUDAL_CRASH_JOURNAL`,
flushed to disk, so the test counts hand-overs across the kill.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from caudal import Registry
from caudal.webhooks import App, Delivery, PendingStore, RedisStore, SQLiteStore, TicketState

from ..core.toy import ToyAsyncConnector

SECRET = "crash-test-secret-of-enough-length"
STEP = os.environ.get("CAUDAL_CRASH_AT", "")
MARKER = Path(os.environ.get("CAUDAL_CRASH_MARKER", "") or os.devnull)
JOURNAL = Path(os.environ.get("CAUDAL_CRASH_JOURNAL", "") or os.devnull)


def stop_here(step: str) -> None:
    """At the chosen step, say so and freeze (the event loop too) until killed."""
    if step != STEP or MARKER.exists():
        return
    MARKER.write_text(f"{step} {os.getpid()}")
    while True:
        time.sleep(60)


def journal(line: str) -> None:
    with JOURNAL.open("a") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


class _Freezing:
    """The crash points around a real store's claim and finish."""

    def claim(self, nonce: str, body: bytes, now: datetime, lease_until: datetime) -> str | None:
        stop_here("before-claim")
        return super().claim(nonce, body, now, lease_until)  # type: ignore[misc, no-any-return]

    def finish(self, nonce: str, token: str, state: TicketState) -> bool:
        stop_here("after-handler")
        done: bool = super().finish(nonce, token, state)  # type: ignore[misc]
        stop_here("after-finish")
        return done


class FreezingStore(_Freezing, SQLiteStore):
    """The SQLite store, freezing at the crash points."""


class FreezingRedisStore(_Freezing, RedisStore):
    """The Redis store, freezing at the crash points."""


def store(where: str) -> PendingStore:
    """`redis://...#prefix` for the Redis store, else a SQLite file."""
    if where.startswith("redis://"):
        url, _, prefix = where.partition("#")
        return FreezingRedisStore(url, prefix=prefix)
    return FreezingStore(where)


def handler(delivery: Delivery) -> None:
    operation = delivery.result.operation_id if delivery.result else None
    journal(f"start {os.getpid()} {operation} {delivery.attempt}")
    stop_here("in-handler")
    amounts = ",".join(str(b.amount.amount) for b in delivery.result or ())
    journal(f"done {os.getpid()} {operation} {delivery.attempt} {amounts}")


def make_app() -> object:
    """The ASGI app (`uvicorn --factory`): built in the receiver process only, never on import."""
    return App(
        secret=SECRET,
        public_url="http://127.0.0.1/hooks",
        handler=handler,
        store=store(os.environ["CAUDAL_CRASH_DB"]),
        registry=Registry.of(ToyAsyncConnector),
        lease=timedelta(seconds=float(os.environ.get("CAUDAL_CRASH_LEASE", "1"))),
    ).asgi
