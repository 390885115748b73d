"""Webhooks over real HTTP: verified, matched to a pending operation, delivered exactly once."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from caudal import Pending, Registry
from caudal.sandbox import Sandbox, serve
from caudal.webhooks import App, Delivery, SQLiteStore, TicketState

from .toy import ToyAsyncConnector, async_emulator, callback_answers

SECRET = "a-webhook-secret-of-enough-length"


class Switch:
    """An ASGI app whose target can change: a 'restart' of the receiving app mid-test."""

    def __init__(self) -> None:
        self.target: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.target is not None
        await self.target(scope, receive, send)


@dataclass
class Inbox:
    deliveries: list[Delivery] = field(default_factory=list)
    fail_next: bool = False

    def __call__(self, delivery: Delivery) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("host app had a bad moment")
        self.deliveries.append(delivery)

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Delivery]:
        end = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < end:
            time.sleep(0.02)
        return self.deliveries


@pytest.fixture(scope="module")
def switch() -> Switch:
    return Switch()


@pytest.fixture(scope="module")
def hook_sandbox(switch: Switch) -> Iterator[Sandbox]:
    with serve([async_emulator()], extra={"/hooks": switch}) as sandbox:
        yield sandbox


@pytest.fixture
def registry() -> Registry:
    return Registry.of(ToyAsyncConnector)


def make_app(
    sandbox: Sandbox, switch: Switch, db: Path, registry: Registry, **options: Any
) -> tuple[App, Inbox]:
    inbox = Inbox()
    app = App(
        secret=SECRET,
        public_url=f"{sandbox.url}/hooks",
        handler=inbox,
        store=SQLiteStore(db),
        registry=registry,
        **options,
    )
    switch.target = app.asgi
    return app, inbox


def wait_for_answers(operation: str, count: int = 1, timeout: float = 5.0) -> list[tuple[int, str]]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [(status, text) for op, status, text in callback_answers if op == operation]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"no callback answer for {operation}")


def test_result_is_delivered_once_with_exact_amounts(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    conn = hook_sandbox.connect("toy.async", registry=registry)
    pending = app.request(conn, "balance")
    delivery = inbox.wait()[0]
    assert delivery.error is None and delivery.result is not None
    assert delivery.result.operation_id == pending.operation_id
    assert delivery.result.items[0].amount.amount == Decimal("1000.1234567890123456789")
    assert app.store.get(delivery.ticket.nonce).state is TicketState.DELIVERED  # type: ignore[union-attr]


async def test_async_request_is_delivered(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    import asyncio

    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    conn = hook_sandbox.connect("toy.async", registry=registry)
    pending = await app.arequest(conn, "balance")
    for _ in range(250):
        if inbox.deliveries:
            break
        await asyncio.sleep(0.02)
    assert inbox.deliveries[0].result is not None
    assert inbox.deliveries[0].result.operation_id == pending.operation_id


def test_a_restart_between_request_and_callback_loses_nothing(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    db = tmp_path / "hooks.db"
    before, first_inbox = make_app(hook_sandbox, switch, db, registry)
    conn = hook_sandbox.connect("toy.async", registry=registry)
    pending = before.request(conn, "balance", delay=0.5)
    before.store.close()  # type: ignore[attr-defined]
    switch.target = None  # the process "dies" ...
    _after, second_inbox = make_app(hook_sandbox, switch, db, registry)  # ... and comes back
    delivered = second_inbox.wait()
    assert first_inbox.deliveries == []
    assert [d.result.operation_id for d in delivered if d.result] == [pending.operation_id]


def test_a_replayed_callback_is_acknowledged_but_delivered_once(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    pending = app.request(
        hook_sandbox.connect("toy.async", registry=registry), "balance", scenario="twice"
    )
    answers = wait_for_answers(pending.operation_id, count=2)
    assert [status for status, _ in answers] == [200, 200]
    assert "delivered" in answers[0][1] and "duplicate" in answers[1][1]
    assert len(inbox.wait()) == 1


def test_a_callback_that_fails_mapping_is_kept_and_refused_the_ticket_untouched(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    conn = hook_sandbox.connect("toy.async", registry=registry)
    url, ticket = app.callback_url(conn.name, "balance")
    pending = conn.call("balance", {"scenario": "bad", "delay": 0.3}, callback_url=url)
    assert isinstance(pending, Pending)
    app.expect(ticket, pending)
    assert wait_for_answers(pending.operation_id)[0][0] == 422
    assert inbox.deliveries == []
    [(body, problem)] = app.store.bodies(ticket.nonce)
    assert b'{"oops": 1}' in body and problem and "currency" in problem
    assert app.store.get(ticket.nonce).state is TicketState.REQUESTED  # type: ignore[union-attr]


def test_someone_elses_operation_id_is_refused(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    pending = app.request(
        hook_sandbox.connect("toy.async", registry=registry), "balance", scenario="wrong-operation"
    )
    assert wait_for_answers(pending.operation_id)[0][0] == 409
    assert inbox.deliveries == []


def test_forged_and_unknown_tokens_get_4xx_and_store_nothing(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    url, ticket = app.callback_url("toy.async", "balance")
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert httpx.post(forged, content=b"{}").status_code == 403
    other = App(
        secret="another-secret-of-enough-length",
        public_url=app.public_url,
        handler=inbox,
        store=SQLiteStore(":memory:"),
    )
    unknown, _ = other.callback_url("toy.async", "balance")
    assert httpx.post(unknown, content=b"{}").status_code == 403
    valid_but_unknown = App(
        secret=SECRET, public_url=app.public_url, handler=inbox, store=SQLiteStore(":memory:")
    )
    url2, _ = valid_but_unknown.callback_url("toy.async", "balance")
    assert httpx.post(url2, content=b"{}").status_code == 404
    assert app.store.bodies(ticket.nonce) == [] and inbox.deliveries == []
    assert app.store.get(ticket.nonce).state is TicketState.REQUESTED  # type: ignore[union-attr]


def test_expired_and_oversized_deliveries_are_refused(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(
        hook_sandbox,
        switch,
        tmp_path / "hooks.db",
        registry,
        ttl=timedelta(0),
        grace=timedelta(0),
        max_body_bytes=64,
    )
    url, ticket = app.callback_url("toy.async", "balance")
    assert httpx.post(url, content=b"{}").status_code == 410
    app.grace = timedelta(hours=1)
    assert httpx.post(url, content=b"x" * 65).status_code == 413
    assert app.store.bodies(ticket.nonce) == [] and inbox.deliveries == []


def test_a_failing_handler_leaves_the_operation_deliverable(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, inbox = make_app(hook_sandbox, switch, tmp_path / "hooks.db", registry)
    inbox.fail_next = True
    pending = app.request(
        hook_sandbox.connect("toy.async", registry=registry), "balance", scenario="twice"
    )
    answers = wait_for_answers(pending.operation_id, count=2)
    assert [status for status, _ in answers] == [500, 200]
    assert len(inbox.wait()) == 1 and inbox.deliveries[0].result is not None


def test_operations_past_their_deadline_are_reported_once(
    hook_sandbox: Sandbox, switch: Switch, tmp_path: Path, registry: Registry
) -> None:
    app, _ = make_app(
        hook_sandbox, switch, tmp_path / "hooks.db", registry, ttl=timedelta(milliseconds=1)
    )
    _, ticket = app.callback_url("toy.async", "balance")
    time.sleep(0.01)
    assert [t.nonce for t in app.overdue()] == [ticket.nonce]
    assert app.overdue() == []


def test_secret_must_be_long_enough() -> None:
    from caudal import ConfigurationError

    with pytest.raises(ConfigurationError):
        App(
            secret="short",
            public_url="http://x",
            handler=lambda d: None,
            store=SQLiteStore(":memory:"),
        )
