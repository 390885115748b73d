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
from caudal import Connector, registry


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


@pytest.fixture(scope="session")
def sandbox(receiver: Receiver) -> Iterator[caudal.sandbox.Sandbox]:
    """Every installed emulator over real HTTP, with the receiver mounted under `/hooks`."""
    with caudal.sandbox.serve(extra={"/hooks": receiver.app}) as running:
        yield running
