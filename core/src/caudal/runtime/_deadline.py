"""The call's deadline, enforced where the bytes move: every connect, write and read of a call.

Per-read timeouts alone cannot bound a call: a server that drips one byte a second resets the
read timeout with every byte, so headers or a body can take for ever while no single read is
slow. The sync runtime therefore caps *each* socket operation at the time left before the
call's deadline, in a network backend wrapped around httpcore's own: the last read before the
deadline times out at the deadline, whatever the server does. The deadline travels in a
context variable (set by the runner for the whole call, token requests included), so the
check costs a lookup and a clock read per socket operation, and no thread per call.

The async runtime needs none of this: `asyncio.timeout` cancels the whole attempt.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from ..settings import ConnectorSettings

__all__ = ["bounded_transport", "http_timeouts", "within"]

_DEADLINE: ContextVar[float | None] = ContextVar("caudal_deadline", default=None)
"""The running call's deadline in `time.monotonic()` seconds; None outside a call."""


@contextmanager
def within(deadline: float) -> Iterator[None]:
    """Bound every socket operation made in this context by `deadline` (monotonic seconds)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bound(timeout: float | None, timed_out: type[httpcore.TimeoutException]) -> float | None:
    """`timeout`, cut to the time left before the deadline; raise `timed_out` if none is left.

    A socket timeout fires no earlier than asked, so an operation cut here ends at or after
    the deadline: the runner tells a deadline from an ordinary timeout by the clock alone.
    """
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise timed_out("the call's deadline passed")
    return left if timeout is None or left < timeout else timeout


class _BoundedStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the call's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # Request bodies are small enough for the socket's send buffer: one bounded send.
        self._inner.write(buffer, _bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, its connections bounded by the call's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - caudal never asks for a unix socket
        bounded = _bound(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_transport(limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's own sync transport, its network backend wrapped by `_BoundedBackend`.

    httpx builds its connection pool without a way to pass a network backend, so the pool's
    backend is wrapped after the fact; if a future httpx renames it, this fails loudly when
    the first client is built rather than silently losing the deadline.
    """
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):  # pragma: no cover - httpx changed
        raise RuntimeError("cannot bound httpx's connections by the deadline: unknown httpx")
    setattr(pool, "_network_backend", _BoundedBackend(backend))  # noqa: B010 - private, checked
    return transport


def http_timeouts(settings: ConnectorSettings, left: float) -> dict[str, float]:
    """httpx's per-request timeouts (its `timeout` extension), none longer than `left`.

    Also covers what the socket bound cannot see: the wait for a free pooled connection.
    """
    read = min(settings.read_timeout, left)
    connect = min(settings.connect_timeout, left)
    return {"connect": connect, "read": read, "write": read, "pool": read}
