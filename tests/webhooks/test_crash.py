"""Kill a real receiver process (uvicorn, SIGKILL) at each step of a delivery, restart it on the
same store, and count: nothing lost, nothing handed over twice beyond the documented re-run.

The documented re-run: a delivery the store had claimed but not finished when the process died
(its handler killed in the middle, or finished but its finish not yet recorded) is handed over
once more after the restart; a finished one never is; one never claimed is handed over once.
`CAUDAL_CRASH_RUNS` (default 1) repeats each kill point; `make crash` runs many.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from caudal import Pending, Registry
from caudal.sandbox import Sandbox, serve
from caudal.webhooks import App, PendingStore, RedisStore, SQLiteStore, Ticket, TicketState

from ..core.toy import ToyAsyncConnector
from ..redis_server import redis_server
from . import crash_receiver, retrying_provider

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("CAUDAL_CRASH_RUNS", "1"))
OPERATIONS = 3
"""Requests in flight per run: the first to reach the kill point freezes the whole receiver."""
EXACT = "1000.1234567890123456789,1.10"
"""The toy provider's two amounts as its body writes them (tests/core/toy.py), digit for digit."""

STEPS = [
    "none",
    "before-claim",
    "in-handler",
    "after-handler",
    "after-finish",
    # the provider makes one attempt only: the receiver's own re-delivery must hand it over
    "in-handler/no-retry",
    "after-handler/no-retry",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """A uvicorn process serving crash_receiver on a fixed port, restartable on the same store."""

    workdir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    db: str = ""
    """Where the store is: a SQLite file in `workdir` unless a `redis://...#prefix`."""

    @property
    def marker(self) -> Path:
        return self.workdir / "marker"

    @property
    def journal(self) -> Path:
        return self.workdir / "journal"

    def start(self, step: str) -> None:
        env = {
            **os.environ,
            "CAUDAL_CRASH_AT": step,
            "CAUDAL_CRASH_MARKER": str(self.marker),
            "CAUDAL_CRASH_JOURNAL": str(self.journal),
            "CAUDAL_CRASH_DB": self.db or str(self.workdir / "hooks.sqlite3"),
            "CAUDAL_CRASH_LEASE": "1",
        }
        command = [sys.executable, "-m", "uvicorn", "--factory"]
        command += ["tests.webhooks.crash_receiver:make_app"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            assert self.process.poll() is None, "the receiver exited on start"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the receiver did not start")

    def kill_at_marker(self, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while not self.marker.exists():
            assert time.monotonic() < end, "the receiver never reached its kill point"
            time.sleep(0.02)
        time.sleep(0.05)  # the marker is written; the process is frozen at the step
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        return self.marker.read_text().split()[0]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def lines(self, kind: str) -> list[list[str]]:
        if not self.journal.exists():
            return []
        rows = [line.split() for line in self.journal.read_text().splitlines()]
        return [row[1:] for row in rows if row and row[0] == kind]


@pytest.fixture(scope="module")
def provider() -> Iterator[Sandbox]:
    with serve([retrying_provider.emulator()]) as sandbox:
        yield sandbox


@dataclass(frozen=True)
class Tally:
    deliveries: int
    lost: int
    doubled: int
    reruns: int


def crash_run(
    provider: Sandbox, workdir: Path, kill_point: str, redis_url: str | None = None
) -> Tally:
    """One run: OPERATIONS requests, a kill at `step`, a restart; then count the hand-overs.

    With `redis_url`, the receiver and this process share a `RedisStore` instead of a file.
    """
    step, _, no_retry = kill_point.partition("/")
    store: PendingStore
    if redis_url is None:
        receiver = Receiver(workdir, free_port())
        store = SQLiteStore(workdir / "hooks.sqlite3")
    else:
        prefix = f"crash:{uuid.uuid4().hex}"
        receiver = Receiver(workdir, free_port(), db=f"{redis_url}#{prefix}")
        store = RedisStore(redis_url, prefix=prefix)
    registry = Registry.of(ToyAsyncConnector)
    requester = App(
        secret=crash_receiver.SECRET,
        public_url=f"http://127.0.0.1:{receiver.port}",
        handler=lambda _: None,  # this process only asks; the receiver process hands over
        store=store,
        registry=registry,
    )
    conn = provider.connect("toy.async", registry=registry)
    receiver.start(step)
    try:
        tickets: dict[str, Ticket] = {}
        # Without retries, a delivery that meets a receiver down is the provider's loss; only
        # the one the kill interrupts is ours to hand over.
        for i in range(1 if no_retry else OPERATIONS):
            url, ticket = requester.callback_url(conn.name, "balance")
            params = {"delay": 0.05 * i, "scenario": "once" if no_retry else "ok"}
            pending = conn.call("balance", params, callback_url=url)
            assert isinstance(pending, Pending)
            requester.expect(ticket, pending)
            tickets[pending.operation_id] = ticket
        killed_pid = receiver.process.pid if receiver.process else 0
        at_kill: dict[str, TicketState] = {}
        if step != "none":
            assert receiver.kill_at_marker() == step
            at_kill = {op: _state(store, t) for op, t in tickets.items()}
            receiver.start("")
        operations = set(tickets)
        end = time.monotonic() + 60
        while not all(retrying_provider.finished(op) for op in operations):
            assert time.monotonic() < end, retrying_provider.answers
            time.sleep(0.05)
        time.sleep(2.5)  # past two leases: a stray second hand-over would have begun by now
    finally:
        receiver.stop()
    amounts = {row[3] for row in receiver.lines("done")}
    assert amounts <= {EXACT}, amounts
    before = Counter(row[1] for row in receiver.lines("start") if row[0] == str(killed_pid))
    after = Counter(row[1] for row in receiver.lines("start") if row[0] != str(killed_pid))
    finished = Counter(row[1] for row in receiver.lines("done"))
    lost = doubled = reruns = 0
    for op in operations:
        # What the store had recorded when the process died decides what may follow: a
        # finished delivery is never handed over again; a claimed one once more (the re-run).
        allowed_after = 0 if at_kill.get(op) in (TicketState.DELIVERED, TicketState.FAILED) else 1
        if finished[op] == 0:
            lost += 1
        if before[op] > 1 or after[op] > allowed_after:
            doubled += 1
        if before[op] and after[op]:
            reruns += 1
            assert at_kill.get(op) is TicketState.DELIVERING, (op, at_kill)
        final = _state(store, tickets[op])
        assert final is TicketState.DELIVERED, (op, final)
    store.close()
    return Tally(len(operations), lost, doubled, reruns)


def _state(store: PendingStore, ticket: Ticket) -> TicketState:
    found = store.get(ticket.nonce)
    assert found is not None
    return found.state


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_a_killed_receiver_loses_nothing_and_doubles_nothing(
    provider: Sandbox, tmp_path: Path, step: str
) -> None:
    tallies = [crash_run(provider, _fresh(tmp_path, i), step) for i in range(RUNS)]
    lost, doubled = sum(t.lost for t in tallies), sum(t.doubled for t in tallies)
    reruns = sum(t.reruns for t in tallies)
    print(
        f"\nkill point {step}: {RUNS} runs, {sum(t.deliveries for t in tallies)} deliveries, "
        f"lost {lost}, doubled {doubled}, documented re-runs {reruns}"
    )
    assert (lost, doubled) == (0, 0)
    if step.startswith(("in-handler", "after-handler")):
        assert reruns >= RUNS  # the killed hand-over ran again in every run


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS if RUNS > 1 else ["after-handler/no-retry"])
def test_receivers_sharing_a_redis_store_lose_nothing_and_double_nothing(
    provider: Sandbox, redis_url: str, tmp_path: Path, step: str
) -> None:
    """The same kills with the tickets in Redis: in the suite, the step where the receiver's
    own sweep must re-deliver a stranded claim; every step, RUNS times, under `make crash`."""
    tallies = [crash_run(provider, _fresh(tmp_path, i), step, redis_url) for i in range(RUNS)]
    assert (sum(t.lost for t in tallies), sum(t.doubled for t in tallies)) == (0, 0)
    if step.startswith(("in-handler", "after-handler")):
        assert sum(t.reruns for t in tallies) >= RUNS


def _fresh(root: Path, i: int) -> Path:
    workdir = root / f"run-{i}"
    workdir.mkdir()
    return workdir
