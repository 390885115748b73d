"""Kill a real receiver process (uvicorn, SIGKILL) at each step of a delivery, restart it on the
same store, and count: nothing lost, nothing handed over twice beyond the documented re-run.

The documented re-run: a handler that finished but whose finish was not recorded (killed between
the two) runs again once. A handler killed in the middle runs again too, and finishes once.
`CAUDAL_CRASH_RUNS` (default 1) repeats each kill point; `make crash` runs many.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from caudal import Pending, Registry
from caudal.sandbox import Sandbox, serve
from caudal.webhooks import App, SQLiteStore, Ticket, TicketState

from ..core.toy import ToyAsyncConnector
from . import crash_receiver, retrying_provider

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("CAUDAL_CRASH_RUNS", "1"))
OPERATIONS = 3
"""Requests in flight per run: the first to reach the kill point freezes the whole receiver."""
EXACT = "1000.1234567890123456789,1.10"
"""The toy provider's two amounts as its body writes them (tests/core/toy.py), digit for digit."""

STEPS = {
    # kill point: (hand-overs started, finished) allowed for the operation that was killed
    "none": (1, 1),
    "before-claim": (1, 1),
    "in-handler": (2, 1),
    "after-handler": (2, 2),
    "after-finish": (1, 1),
    # the provider makes one attempt only: the receiver's own re-delivery must hand it over
    "in-handler/no-retry": (2, 1),
    "after-handler/no-retry": (2, 2),
}


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
            "CAUDAL_CRASH_DB": str(self.workdir / "hooks.sqlite3"),
            "CAUDAL_CRASH_LEASE": "1",
        }
        command = [sys.executable, "-m", "uvicorn", "tests.webhooks.crash_receiver:app"]
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


def crash_run(provider: Sandbox, workdir: Path, kill_point: str) -> Tally:
    """One run: OPERATIONS requests, a kill at `step`, a restart; then count the hand-overs."""
    step, _, no_retry = kill_point.partition("/")
    receiver = Receiver(workdir, free_port())
    registry = Registry.of(ToyAsyncConnector)
    store = SQLiteStore(workdir / "hooks.sqlite3")
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
        if step != "none":
            assert receiver.kill_at_marker() == step
            receiver.start("")
        operations = set(tickets)
        end = time.monotonic() + 60
        while not all(retrying_provider.finished(op) for op in operations):
            assert time.monotonic() < end, retrying_provider.answers
            time.sleep(0.05)
        time.sleep(2.5)  # past two leases: a stray second hand-over would have begun by now
    finally:
        receiver.stop()
    started = Counter(row[1] for row in receiver.lines("start"))
    finished = Counter(row[1] for row in receiver.lines("done"))
    amounts = {row[3] for row in receiver.lines("done")}
    assert amounts <= {EXACT}, amounts
    killed = _killed_operation(receiver, step)
    lost = doubled = reruns = 0
    for op in operations:
        allowed_starts, allowed_done = STEPS[kill_point] if op == killed else (1, 1)
        if finished[op] == 0:
            lost += 1
        if started[op] > allowed_starts or finished[op] > allowed_done:
            doubled += 1
        reruns += started[op] - 1
        final = store.get(tickets[op].nonce)
        assert final is not None and final.state is TicketState.DELIVERED, (op, final)
    store.close()
    return Tally(len(operations), lost, doubled, reruns)


def _killed_operation(receiver: Receiver, step: str) -> str | None:
    """The operation whose hand-over the kill interrupted (the first one journalled)."""
    if step in ("none", "before-claim"):
        return None
    starts = receiver.lines("start")
    return starts[0][1] if starts else None


@pytest.mark.slow
@pytest.mark.parametrize("step", list(STEPS))
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
        assert reruns == RUNS  # the killed hand-over ran again, exactly once per run


def _fresh(root: Path, i: int) -> Path:
    workdir = root / f"run-{i}"
    workdir.mkdir()
    return workdir
