"""Fixtures for the Khipu tests: offline connectors, and the sandbox with a callback receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import caudal.sandbox
from caudal import Connector, registry, webhooks
from caudal.webhooks import Delivery


@pytest.fixture
def afc() -> Iterator[Connector]:
    """An afc.cl connector aimed at nothing: for `parse` and request building."""
    with registry.get("afc.cl", base_url="http://127.0.0.1:9", api_key="test-key") as conn:
        yield conn


@pytest.fixture
def security() -> Iterator[Connector]:
    """A bancosecurity.cl connector aimed at nothing: for `parse` and request building."""
    with registry.get("bancosecurity.cl", base_url="http://127.0.0.1:9", api_key="k") as conn:
        yield conn


class Receiver:
    """Collects callback deliveries by the last path segment of their URL (thread-safe)."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self._changed = threading.Condition()
        self.app = Starlette(routes=[Route("/{key}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._changed:
            self.bodies[request.path_params["key"]] = body
            self._changed.notify_all()
        return Response(status_code=204)

    def wait(self, key: str, timeout: float = 10.0) -> bytes:
        """The body delivered for `key`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while key not in self.bodies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no callback delivered for {key!r} in {timeout} s")
                self._changed.wait(left)
            return self.bodies[key]


@pytest.fixture(scope="session")
def receiver() -> Receiver:
    """The host app's side of Khipu callbacks."""
    return Receiver()


class Inbox:
    """The host app's handler for `caudal.webhooks.App`: deliveries by operation id."""

    def __init__(self) -> None:
        self.deliveries: dict[str | None, list[Delivery]] = {}
        self._changed = threading.Condition()

    def __call__(self, delivery: Delivery) -> None:
        with self._changed:
            self.deliveries.setdefault(delivery.ticket.operation_id, []).append(delivery)
            self._changed.notify_all()

    def wait(self, operation_id: str, timeout: float = 10.0) -> list[Delivery]:
        """Deliveries for `operation_id`, waiting up to `timeout` seconds for the first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while operation_id not in self.deliveries:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing delivered for {operation_id} in {timeout} s")
                self._changed.wait(left)
            return self.deliveries[operation_id]


@pytest.fixture(scope="session")
def inbox() -> Inbox:
    """What the webhook app handed to the host app."""
    return Inbox()


@pytest.fixture(scope="session")
def hooks(inbox: Inbox) -> webhooks.App:
    """caudal's webhook app, as a host app would run it (its URL is set once serving)."""
    return webhooks.App(
        secret="khipu-tests-" + "s" * 20,
        public_url="http://127.0.0.1/caudal-hooks",
        handler=inbox,
        store=webhooks.SQLiteStore(":memory:"),
    )


@pytest.fixture(scope="session")
def sandbox(receiver: Receiver, hooks: webhooks.App) -> Iterator[caudal.sandbox.Sandbox]:
    """Every installed emulator over real HTTP, with a bare receiver under `/hooks` and
    caudal's webhook app under `/caudal-hooks`."""
    extra = {"/hooks": receiver.app, "/caudal-hooks": hooks.asgi}
    with caudal.sandbox.serve(extra=extra) as running:
        hooks.public_url = f"{running.url}/caudal-hooks"
        yield running
