"""A sandbox that records when each request arrives (the provider's side of a bulk run)."""

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Router

from caudal.sandbox import Emulator, Sandbox, load_emulators, serve


@dataclass
class Arrivals:
    """Monotonic arrival times of the provider's requests (emulator bookkeeping excluded)."""

    times: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def most_in_any_window(self, seconds: float = 1.0) -> int:
        with self.lock:
            times = sorted(self.times)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most


class _Recording:
    def __init__(self, app: Any, arrivals: Arrivals) -> None:
        self.app, self.arrivals = app, arrivals

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/_emulator/" not in scope["path"]:
            with self.arrivals.lock:
                self.arrivals.times.append(time.monotonic())
        await self.app(scope, receive, send)


def recording(emulator: Emulator, arrivals: Arrivals) -> Emulator:
    app = _Recording(Router(routes=list(emulator.routes)), arrivals)
    return Emulator(
        name=emulator.name,
        routes=[Mount("", app=app)],
        settings=emulator.settings,
        cases=emulator.cases,
        call_params=emulator.call_params,
    )


@dataclass
class Provider:
    sandbox: Sandbox
    arrivals: Arrivals

    def counts(self, emulator: str = "khipu") -> dict[str, int]:
        """Requests per end user (Khipu's username, Belvo's link), all endpoints summed."""
        body = httpx.get(f"{self.sandbox.url}/{emulator}/_emulator/requests", timeout=10).json()
        return {user: sum(paths.values()) for user, paths in body.items() if user != "oauth2/token"}

    def env(self) -> dict[str, str]:
        """The environment of a `caudal` subprocess talking to this sandbox."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")}
        return base | self.sandbox.environment() | {"COLUMNS": "200"}


@contextmanager
def running_provider() -> Iterator[Provider]:
    arrivals = Arrivals()
    with serve([recording(e, arrivals) for e in load_emulators()]) as sandbox:
        yield Provider(sandbox, arrivals)


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def khipu_inputs(ids: list[str], username: str = "{id}") -> list[dict[str, Any]]:
    return [
        {"id": i, "params": {"credential": {"Username": username.format(id=i), "Password": "pw"}}}
        for i in ids
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The outcome lines of a JSONL output (every one must be whole JSON)."""
    return [json.loads(line) for line in path.read_text().splitlines()]
