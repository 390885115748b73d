"""The receiver over real HTTP: refusals leave the ticket alone; leases; clamping; uploads."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from caudal import Pending, ProviderError
from caudal.sandbox import serve
from caudal.webhooks import App, Delivery, SQLiteStore, Ticket, TicketState

from .khipu_bodies import GENUINE_OPERATION, balance_body, error_body

SECRET = "a-webhook-secret-of-enough-length"


class Inbox:
    """The host app's handler: every delivery it finished, thread-safe."""

    def __init__(self, hold: float = 0.0) -> None:
        self.deliveries: list[Delivery] = []
        self.started = 0
        self.hold = hold
        self._lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self._lock:
            self.started += 1
        time.sleep(self.hold)
        with self._lock:
            self.deliveries.append(delivery)


@contextmanager
def receiver(tmp_path: Path, inbox: Inbox | None = None, **options: Any) -> Iterator[App]:
    app = App(
        secret=SECRET,
        public_url="http://placeholder/hooks",
        handler=inbox or Inbox(),
        store=SQLiteStore(tmp_path / "hooks.sqlite3"),
        **options,
    )
    with serve([], extra={"/hooks": app.asgi}) as sandbox:
        app.public_url = f"{sandbox.url}/hooks"
        yield app


def acknowledged(
    app: App, operation: str = GENUINE_OPERATION, deadline: datetime | None = None
) -> tuple[str, Ticket]:
    """A callback URL whose request the provider acknowledged (a 202) as `operation`."""
    url, ticket = app.callback_url("afc.cl", "balance")
    app.expect(
        ticket,
        Pending(
            connector="afc.cl", capability="balance", operation_id=operation, deadline=deadline
        ),
    )
    return url, ticket


def state(app: App, ticket: Ticket) -> TicketState:
    found = app.store.get(ticket.nonce)
    assert found is not None
    return found.state


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (balance_body("someone-elses-operation"), 409),
        (balance_body(""), 409),
        (error_body("someone-elses-operation"), 409),
        (error_body(""), 409),
        (b"\x00garbage", 422),
        (b'{"OperationId": "6baf6c19-e485-463b-ae24-a821b025c8a4", "Status": "OK"}', 422),
        (b"", 422),
        (b"[]", 422),
    ],
    ids=[
        "result-other-op",
        "result-empty-op",
        "error-other-op",
        "error-empty-op",
        "garbage",
        "genuine-op-no-data-fields",
        "empty",
        "array",
    ],
)
def test_what_is_not_for_the_pending_operation_leaves_the_ticket_alone(
    tmp_path: Path, body: bytes, status: int
) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox) as app:
        url, ticket = acknowledged(app)
        refused = httpx.post(url, content=body)
        assert refused.status_code == status
        assert state(app, ticket) is TicketState.REQUESTED and inbox.deliveries == []
        [(kept, problem)] = app.store.bodies(ticket.nonce)
        assert kept == body and problem
        genuine = httpx.post(url, content=balance_body())
        assert (genuine.status_code, genuine.json()) == (200, {"status": "delivered"})
    [delivery] = inbox.deliveries
    assert delivery.result is not None and delivery.result.operation_id == GENUINE_OPERATION
    [record] = delivery.result.items
    assert record.amount.amount == Decimal("10000") and record.units == Decimal("223.45")
    assert state(app, ticket) is TicketState.DELIVERED


def test_the_providers_error_for_the_operation_is_handed_over_once(tmp_path: Path) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox) as app:
        url, ticket = acknowledged(app)
        first = httpx.post(url, content=error_body(code="E201"))
        again = httpx.post(url, content=balance_body())
    assert (first.status_code, first.json()["status"]) == (200, "provider error delivered")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    [delivery] = inbox.deliveries
    assert isinstance(delivery.error, ProviderError) and delivery.error.code == "E201"
    assert state(app, ticket) is TicketState.FAILED


def test_a_callback_that_overtakes_the_202_waits_for_it(tmp_path: Path) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox) as app:
        url, ticket = app.callback_url("afc.cl", "balance")
        early = httpx.post(url, content=balance_body())
        assert (early.status_code, state(app, ticket)) == (503, TicketState.REQUESTED)
        app.expect(
            ticket,
            Pending(connector="afc.cl", capability="balance", operation_id=GENUINE_OPERATION),
        )
        assert httpx.post(url, content=balance_body()).status_code == 200
    assert len(inbox.deliveries) == 1


@pytest.mark.parametrize(
    "lifespan",
    [
        "9999-12-31T23:59:59-04:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+05:00",
        "2000-01-01T00:00:00-04:00",
    ],
)
def test_far_and_past_provider_deadlines_are_clamped(tmp_path: Path, lifespan: str) -> None:
    inbox = Inbox()
    deadline = datetime.fromisoformat(lifespan)
    with receiver(tmp_path, inbox, max_wait=timedelta(days=2)) as app:
        before = datetime.now(UTC)
        url, ticket = acknowledged(app, deadline=deadline)
        stored = app.store.get(ticket.nonce)
        assert stored is not None
        after = datetime.now(UTC)
        if deadline.year == 9999:
            assert before + timedelta(days=2) <= stored.deadline <= after + timedelta(days=2)
            assert app.overdue() == []
        else:
            assert before <= stored.deadline <= after  # late already: reported, still accepted
            time.sleep(0.001)
            assert [t.nonce for t in app.overdue()] == [ticket.nonce]
        answer = httpx.post(url, content=balance_body())
    assert (answer.status_code, answer.json()) == (200, {"status": "delivered"})
    assert len(inbox.deliveries) == 1


def test_a_stranded_claim_is_handed_over_again_after_its_lease(tmp_path: Path) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox, lease=timedelta(milliseconds=300)) as app:
        url, ticket = acknowledged(app)
        # A receiver that died in its handler left this claim behind, never to be renewed.
        now = datetime.now(UTC)
        assert app.store.claim(ticket.nonce, balance_body(), now, now + app.lease)
        assert httpx.post(url, content=balance_body()).status_code == 503  # lease still live
        assert asyncio.run(app.redeliver()) == 0
        time.sleep(0.35)
        assert asyncio.run(app.redeliver()) == 1
        assert httpx.post(url, content=balance_body()).json()["status"] == "duplicate"
    [delivery] = inbox.deliveries
    assert (delivery.attempt, delivery.id) == (2, ticket.nonce)
    assert delivery.result is not None and delivery.result.operation_id == GENUINE_OPERATION


def test_the_providers_retry_after_the_lease_takes_the_stranded_claim(tmp_path: Path) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox, lease=timedelta(milliseconds=200)) as app:
        url, ticket = acknowledged(app)
        now = datetime.now(UTC)
        assert app.store.claim(ticket.nonce, b"the dead process's copy", now, now + app.lease)
        time.sleep(0.25)
        assert httpx.post(url, content=balance_body()).json()["status"] == "delivered"
    assert [d.attempt for d in inbox.deliveries] == [2]


def test_a_live_handler_slower_than_its_lease_is_not_handed_over_twice(tmp_path: Path) -> None:
    inbox = Inbox(hold=1.2)
    with receiver(tmp_path, inbox, lease=timedelta(milliseconds=300)) as app:
        url, ticket = acknowledged(app)
        with httpx.Client(timeout=10) as client:
            first = threading.Thread(
                target=client.post, args=(url,), kwargs={"content": balance_body()}
            )
            first.start()
            time.sleep(0.8)  # well past one lease: only renewal keeps the claim
            assert (
                client.post(url, content=balance_body()).json()["status"] == "delivery in progress"
            )
            assert asyncio.run(app.redeliver()) == 0
            first.join()
    assert inbox.started == 1 and len(inbox.deliveries) == 1
    assert state(app, ticket) is TicketState.DELIVERED


def test_overdue_reports_a_ticket_stuck_delivering(tmp_path: Path) -> None:
    with receiver(tmp_path, lease=timedelta(milliseconds=100)) as app:
        _url, ticket = acknowledged(app, deadline=datetime.now(UTC) + timedelta(milliseconds=50))
        now = datetime.now(UTC)
        assert app.store.claim(ticket.nonce, balance_body(), now, now + app.lease)
        time.sleep(0.15)
        assert [t.nonce for t in app.overdue()] == [ticket.nonce]
        assert app.overdue() == []
        assert state(app, ticket) is TicketState.DELIVERING


def _port(url: str) -> tuple[str, int]:
    host_port = url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    return host, int(port)


def test_a_dripping_upload_is_cut_off_at_the_body_timeout(tmp_path: Path) -> None:
    with receiver(tmp_path, body_timeout=1.0) as app:
        url, ticket = acknowledged(app)
        path = "/" + url.split("/", 3)[3]
        body = balance_body()
        with socket.create_connection(_port(url), timeout=10) as sock:
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            )
            started = time.monotonic()
            sock.settimeout(0.3)
            answer = b""
            for byte in body:
                try:
                    answer = sock.recv(4096)
                except TimeoutError:
                    sock.sendall(bytes([byte]))
                    continue
                break
            elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
        assert elapsed < 1.0 + 1.0
        assert state(app, ticket) is TicketState.REQUESTED


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_upload_is_refused(tmp_path: Path, declare: bool) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox, max_body_bytes=1024) as app:
        url, ticket = acknowledged(app)
        big = balance_body()[:-1] + b" " * 2048 + b"}"
        content: Any = big if declare else iter([big[:600], big[600:]])
        assert httpx.post(url, content=content).status_code == 413
        assert state(app, ticket) is TicketState.REQUESTED and inbox.deliveries == []
        assert httpx.post(url, content=balance_body()).status_code == 200


def test_reading_an_upload_holds_memory_proportional_to_the_body(tmp_path: Path) -> None:
    import tracemalloc

    size = 4 * 1024 * 1024
    body = b"\x00" * size  # refused at once by the mapping: the read itself is measured
    with receiver(tmp_path, max_body_bytes=8 * 1024 * 1024) as app:
        url, ticket = acknowledged(app)
        with httpx.Client(timeout=30) as client:
            tracemalloc.start()
            try:
                status = client.post(url, content=body).status_code
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert status == 422 and state(app, ticket) is TicketState.REQUESTED
    # the client's request and the receiver's copy, plus the kept body: a small multiple
    print(f"\nreceiver read peak: {peak / size:.2f}x the body")
    assert peak < 5 * size, peak / size


class _BuggyConnector:
    """A connector whose mapping has a bug: not the provider's fault, not a refusal of the body."""

    name = "afc.cl"

    def parse(self, capability: str, body: bytes) -> Any:
        raise AttributeError("'NoneType' object has no attribute 'Details'")


def _unloadable(name: str) -> Any:
    from caudal import PluginError

    raise PluginError(name, "caudal-khipu", "boom at import", status="import error")


@pytest.mark.parametrize(
    ("connect", "status", "what"),
    [
        (lambda name: _BuggyConnector(), 500, "receiver error"),
        (_unloadable, 503, "receiver not ready"),
    ],
    ids=["bug-in-mapping", "connector-not-loadable"],
)
def test_our_own_faults_leave_the_delivery_for_a_retry(
    tmp_path: Path, connect: Any, status: int, what: str
) -> None:
    inbox = Inbox()
    with receiver(tmp_path, inbox, connect=connect) as app:
        url, ticket = acknowledged(app)
        answer = httpx.post(url, content=balance_body())
        assert (answer.status_code, answer.json()["status"]) == (status, what)
        assert state(app, ticket) is TicketState.REQUESTED and inbox.deliveries == []
        assert app.store.bodies(ticket.nonce) == []  # nothing about the body was wrong
