"""The tour `make demo` shows: every connector, every capability, a callback and a challenge."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from ..errors import CaudalError, ChallengeRequired
from ..model import Challenge, Pending, Result

if TYPE_CHECKING:
    from ..registry import Registry
    from ..webhooks import App, Delivery
    from ._server import Sandbox

__all__ = ["CallbackShown", "ChallengeShown", "Tour", "tour"]


class CallbackShown(BaseModel):
    """An asynchronous request whose result arrived at the webhook app."""

    model_config = ConfigDict(frozen=True)

    pending: Pending
    delivered: Result[Any] | None
    error: str | None = None
    waited_seconds: float
    """From sending the request to the webhook handler receiving the result."""


class ChallengeShown(BaseModel):
    """A multi-factor challenge raised and answered with the sandbox's token."""

    model_config = ConfigDict(frozen=True)

    challenge: Challenge
    result: Result[Any] | None
    error: str | None = None


class Tour(BaseModel):
    """Everything the demo did, as data (`caudal demo --json` prints this)."""

    model_config = ConfigDict(frozen=True)

    results: list[Result[Any]]
    failures: list[str]
    callback: CallbackShown | None
    challenge: ChallengeShown | None
    elapsed_seconds: float
    """The whole tour, the sandbox's start-up and every call included."""
    broken: dict[str, str] = {}
    """Connectors whose plugin could not load, and why (each is also a failure)."""
    unserved: list[str] = []
    """Connectors that load but that no sandbox emulator serves (not toured, not a failure)."""

    def summary(self) -> str:
        """One line: what ran and whether all of it worked."""
        records = sum(len(r) for r in self.results)
        connectors = len({r.connector for r in self.results})
        parts = [
            f"{connectors} connectors",
            f"{len(self.results)} capability calls",
            f"{records} records",
        ]
        if self.callback:
            parts.append(
                "1 callback delivered" if self.callback.delivered else "callback NOT delivered"
            )
        if self.challenge:
            parts.append(
                "1 challenge answered" if self.challenge.result else "challenge NOT answered"
            )
        verdict = "all ok" if self.ok else f"{len(self.failures)} failure(s)"
        took = f"the whole tour took {self.elapsed_seconds:.1f}s, sandbox start-up included"
        return f"{', '.join(parts)}: {verdict} ({took})"

    @property
    def ok(self) -> bool:
        """True when every call, the callback and the challenge worked."""
        callback_ok = self.callback is None or self.callback.delivered is not None
        challenge_ok = self.challenge is None or self.challenge.result is not None
        return not self.failures and callback_ok and challenge_ok


def _loadable(sandbox: Sandbox, registry: Registry) -> tuple[list[str], dict[str, str], list[str]]:
    """Connectors to tour, broken ones (name -> why), and loadable ones no emulator serves."""
    touring: list[str] = []
    broken: dict[str, str] = {}
    unserved: list[str] = []
    for name in registry.names():
        try:
            registry.load(name)
        except CaudalError as exc:
            broken[name] = str(exc)
            continue
        (touring if name in sandbox.connectors() else unserved).append(name)
    return touring, broken, unserved


def _fetch_all(
    sandbox: Sandbox, registry: Registry, names: list[str]
) -> tuple[list[Result[Any]], list[str]]:
    results, failures = [], []
    for name in names:
        try:
            conn = sandbox.connect(name, registry=registry)
        except CaudalError as exc:
            failures.append(str(exc))
            continue
        with conn:
            for capability in sorted(conn.capabilities):
                try:
                    outcome = conn.call(capability, sandbox.call_params(name, capability))
                except CaudalError as exc:
                    failures.append(str(exc))
                    continue
                if isinstance(outcome, Result):
                    results.append(outcome)
    return results, failures


def _callback(
    sandbox: Sandbox, registry: Registry, hooks: App, inbox: _Inbox, names: list[str]
) -> CallbackShown | None:
    for name in names:
        conn = sandbox.connect(name, registry=registry)
        for capability in sorted(conn.capabilities):
            if conn.operation(capability).callbacks:
                started = time.monotonic()
                pending = hooks.request(conn, capability, **sandbox.call_params(name, capability))
                delivery = inbox.wait(timeout=30)
                waited = time.monotonic() - started
                if delivery is None:
                    return CallbackShown(
                        pending=pending,
                        delivered=None,
                        error="no callback in 30 s",
                        waited_seconds=waited,
                    )
                error = str(delivery.error) if delivery.error else None
                return CallbackShown(
                    pending=pending, delivered=delivery.result, error=error, waited_seconds=waited
                )
    return None


def _challenge(sandbox: Sandbox, registry: Registry, names: list[str]) -> ChallengeShown | None:
    for emulator in sandbox.emulators:
        for case in emulator.challenges:
            if case.connector not in names:
                continue
            conn = sandbox.connect(case.connector, registry=registry)
            try:
                conn.call(case.capability, dict(case.params))
            except ChallengeRequired as exc:
                try:
                    return ChallengeShown(
                        challenge=exc.challenge, result=conn.resume(exc.challenge, case.token)
                    )
                except CaudalError as failed:
                    return ChallengeShown(challenge=exc.challenge, result=None, error=str(failed))
    return None


class _Inbox:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.delivery: Delivery | None = None

    def __call__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self._event.set()

    def wait(self, timeout: float) -> Delivery | None:
        self._event.wait(timeout)
        return self.delivery


def tour(registry: Registry | None = None) -> Tour:
    """Start the sandbox with a webhook app, and run every connector's every capability."""
    from .. import registry as default_registry
    from ..webhooks import App, SQLiteStore
    from ._server import serve

    registry = registry or default_registry
    started = time.monotonic()
    inbox = _Inbox()
    hooks = App(
        secret="caudal-demo-" + "x" * 16,
        public_url="http://127.0.0.1/hooks",
        handler=inbox,
        store=SQLiteStore(":memory:"),
        registry=registry,
    )
    with serve(extra={"/hooks": hooks.asgi}) as sandbox:
        hooks.public_url = f"{sandbox.url}/hooks"
        names, broken, unserved = _loadable(sandbox, registry)
        results, failures = _fetch_all(sandbox, registry, names)
        callback = _callback(sandbox, registry, hooks, inbox, names)
        challenge = _challenge(sandbox, registry, names)
    return Tour(
        results=results,
        failures=[*broken.values(), *failures],
        callback=callback,
        challenge=challenge,
        elapsed_seconds=time.monotonic() - started,
        broken=broken,
        unserved=unserved,
    )
