"""Serving emulators with uvicorn, in a background thread or in the foreground."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from ..errors import CaudalError, ConfigurationError, PluginError
from ..registry import CONNECTOR_GROUP
from ._emulator import Emulator

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..connector import Connector
    from ..registry import Registry

__all__ = ["SANDBOX_GROUP", "Sandbox", "app", "load_emulators", "serve"]

SANDBOX_GROUP = "caudal.sandbox"
log = logging.getLogger("caudal.sandbox")


def _allowed_distributions() -> set[str] | None:
    """Distributions whose connectors the `CAUDAL_PLUGINS` allowlist admits (None: all)."""
    allow = {a.strip() for a in os.environ.get("CAUDAL_PLUGINS", "").split(",") if a.strip()}
    if not allow:
        return None
    dists = {p.dist.name for p in entry_points(group=CONNECTOR_GROUP) if p.dist and p.name in allow}
    return dists | allow


def load_emulators(group: str = SANDBOX_GROUP) -> list[Emulator]:
    """Installed plugins' emulators (an entry point gives an `Emulator` or a factory of one).

    A broken emulator is logged and skipped: one plugin's bug must not take the sandbox down
    for the others (`caudal doctor` names the plugin).
    """
    allowed = _allowed_distributions()
    found = []
    for point in entry_points(group=group):
        dist = point.dist.name if point.dist else None
        if allowed is not None and dist not in allowed and point.name not in allowed:
            continue
        try:
            loaded = point.load()
            emulator = loaded() if callable(loaded) and not isinstance(loaded, Emulator) else loaded
            if not isinstance(emulator, Emulator):
                raise TypeError(f"{point.value} did not give an Emulator")
        except Exception as exc:
            problem = PluginError(
                point.name, dist, f"{type(exc).__name__}: {exc}", status="import error"
            )
            log.warning("sandbox emulator skipped: %s", problem)
            continue
        found.append(emulator)
    return found


def app(emulators: Sequence[Emulator], extra: Mapping[str, ASGIApp] | None = None) -> Starlette:
    """One ASGI app: each emulator under `/<name>`, extra apps (webhooks) under their prefixes."""
    routes: list[BaseRoute] = [Mount(f"/{e.name}", routes=list(e.routes)) for e in emulators]
    routes += [Mount(prefix, app=sub) for prefix, sub in (extra or {}).items()]
    return Starlette(routes=routes)


@dataclass
class Sandbox:
    """A running sandbox: where it listens and how to point connectors at it."""

    url: str
    emulators: Sequence[Emulator]
    _by_connector: dict[str, Emulator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for emulator in self.emulators:
            for connector in emulator.settings:
                self._by_connector[connector] = emulator

    def connectors(self) -> list[str]:
        """Connector names some emulator serves."""
        return sorted(self._by_connector)

    def emulator(self, connector: str) -> Emulator:
        try:
            return self._by_connector[connector]
        except KeyError:
            raise ConfigurationError(
                "no sandbox emulator serves this connector", connector=connector
            ) from None

    def base_url(self, connector: str) -> str:
        return f"{self.url}/{self.emulator(connector).name}"

    def settings(self, connector: str) -> dict[str, Any]:
        """Keyword settings for `registry.get(connector, **...)` that talk to this sandbox."""
        return {
            **self.emulator(connector).settings[connector],
            "base_url": self.base_url(connector),
        }

    def call_params(self, connector: str, capability: str) -> dict[str, Any]:
        """Parameters of a call that succeeds against this sandbox."""
        return dict(self.emulator(connector).call_params.get(connector, {}).get(capability, {}))

    def environment(self, registry: Registry | None = None) -> dict[str, str]:
        """The `CAUDAL_<PROVIDER>_*` environment variables that point every connector at this
        sandbox (what `caudal sandbox serve` prints to export); one set per settings prefix.

        A connector whose plugin cannot load is left out (`caudal doctor` says why).
        """
        if registry is None:
            from .. import registry as default_registry

            registry = default_registry
        env: dict[str, str] = {}
        for connector in self.connectors():
            try:
                settings_class = registry.load(connector).settings_class
            except CaudalError:
                continue
            prefix = str(settings_class.model_config.get("env_prefix", ""))
            for key, value in self.settings(connector).items():
                env.setdefault(f"{prefix}{key.upper()}", str(value))
        return env

    def connect(
        self, connector: str, registry: Registry | None = None, **overrides: Any
    ) -> Connector:
        """A connector from `registry` (default: the process-wide one) aimed at this sandbox."""
        if registry is None:
            from .. import registry as default_registry

            registry = default_registry
        return registry.get(connector, **{**self.settings(connector), **overrides})


@contextmanager
def serve(
    emulators: Sequence[Emulator] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    extra: Mapping[str, ASGIApp] | None = None,
) -> Iterator[Sandbox]:
    """Run the sandbox in a background thread for the duration of the `with` block."""
    import uvicorn

    chosen = load_emulators() if emulators is None else list(emulators)
    config = uvicorn.Config(
        app(chosen, extra),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="caudal-sandbox", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise ConfigurationError(f"sandbox could not start on {host}:{port}")
        thread.join(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Sandbox(url=f"http://{host}:{bound}", emulators=chosen)
    finally:
        server.should_exit = True
        thread.join(10)
