"""What the sync and async runners share: building httpx requests, limits, error translation."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import RetryAdvice, TransportError
from ..exchange import Call, Reply, Request

if TYPE_CHECKING:
    from ..model import Pending, Result
from ..mapping import mapping_errors
from ..settings import ConnectorSettings

__all__ = [
    "Urls",
    "build",
    "client_options",
    "read_reply",
    "too_large",
    "transport_error",
    "url_of",
]

Reader = Callable[[Reply, Call[Any]], "Result[Any] | Pending"]


def client_options(
    settings: ConnectorSettings,
    auth: httpx.Auth | None,
    headers: dict[str, str],
    connections: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `httpx.Client` / `httpx.AsyncClient` of one connector.

    `connections`: the pool's size when the connector's `max_connections` is split over
    several pools (the async runner does).
    """
    size = settings.max_connections if connections is None else connections
    return {
        "base_url": settings.base_url,
        "auth": auth,
        "headers": {"user-agent": "caudal", "accept": "application/json", **headers},
        "timeout": httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        "limits": httpx.Limits(max_connections=size, max_keepalive_connections=size),
        "follow_redirects": False,
        "trust_env": False,
    }


class Urls:
    """Absolute URLs of a connector's paths, each merged with the base URL once.

    httpx parses the base URL and the path on every request to merge them (two URL parses,
    measured at a tenth of caudal's own cost per call); a connector calls a handful of paths.
    """

    LIMIT = 256
    """Paths kept; one that carries an id per call must not grow the table forever."""

    def __init__(self) -> None:
        self._known: dict[str, httpx.URL] = {}

    def of(self, client: httpx.Client | httpx.AsyncClient, path: str) -> httpx.URL:
        url = self._known.get(path)
        if url is None:
            url = client.build_request("GET", path).url  # httpx's own merge, done once
            # An absolute URL (a provider's next-page link) is different on every page:
            # keeping it would only grow the table while a long history streams.
            if len(self._known) < self.LIMIT and "://" not in path:
                self._known[path] = url
        return url


def build(client: httpx.Client | httpx.AsyncClient, request: Request, urls: Urls) -> httpx.Request:
    """The httpx request for a connector's `Request`."""
    return client.build_request(
        request.method,
        urls.of(client, request.path),
        json=request.json,
        params=request.params or None,
        headers=dict(request.headers) if request.headers else None,
    )


def url_of(request: httpx.Request) -> str:
    """Scheme, host, port and path only: queries may carry tokens, so they are never shown."""
    u = request.url
    return f"{u.scheme}://{u.host}{f':{u.port}' if u.port else ''}{u.path}"


def transport_error(
    exc: httpx.HTTPError, request: httpx.Request, call: Call[Any]
) -> TransportError:
    """A typed, secret-free error for an httpx failure."""
    where = url_of(request)
    if isinstance(exc, httpx.TimeoutException):
        what = f"timed out ({type(exc).__name__}) talking to {where}"
    elif isinstance(exc, httpx.ConnectError):
        what = f"could not connect to {where}"
    else:
        what = f"{type(exc).__name__} talking to {where}"
    return TransportError(what, connector=call.connector, capability=call.capability)


def too_large(limit: int, request: httpx.Request, call: Call[Any]) -> TransportError:
    """Refuse a body over the limit instead of holding it in memory."""
    return TransportError(
        f"response from {url_of(request)} exceeds the {limit}-byte limit (max_response_bytes)",
        connector=call.connector,
        capability=call.capability,
        retry=RetryAdvice.NEVER,
    )


GC_PAUSE_BYTES = 8 * 1024
"""Bodies from this size on (a page of about 50 records) are mapped with the cyclic garbage
collector paused; a small answer's mapping is too short for the collector to matter."""

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


def _pause_gc() -> None:
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1


def _resume_gc() -> None:
    global _gc_pauses
    with _gc_lock:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled:
            gc.enable()


def read_reply(reply: Reply, read: Reader, call: Call[Any]) -> Result[Any] | Pending:
    """Run the connector's reader; anything but a typed caudal error becomes a MappingError.

    A large body becomes hundreds of thousands of objects that all stay alive until the
    `Result` is built; the cyclic collector would walk them again and again while they are
    made (measured: mapping 100k records in one body took 2-3x as long with it running, and pages
    of 100 records about 1.2x). Mapping creates
    no garbage cycles, so the collector is paused for the mapping of a large body and resumed
    after it (never enabled if the host app had disabled it; nested and threaded calls share
    one pause).
    """
    if len(reply.body) < GC_PAUSE_BYTES:
        with mapping_errors(call):
            return read(reply, call)
    _pause_gc()
    try:
        with mapping_errors(call):
            return read(reply, call)
    finally:
        _resume_gc()


class Body:
    """Collects a streamed response body, refusing it once it passes the size limit.

    The declared `content-length` is checked first, so an honest oversized answer is refused
    before a byte of it is read; a lying or chunked one is cut at the limit.
    """

    def __init__(
        self, response: httpx.Response, limit: int, request: httpx.Request, call: Call[Any]
    ) -> None:
        self._response, self._limit, self._request, self._call = response, limit, request, call
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(limit, request, call)

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise too_large(self._limit, self._request, self._call)
        self._chunks.append(chunk)

    def reply(self) -> Reply:
        return reply_of(self._response, b"".join(self._chunks))


def reply_of(response: httpx.Response, body: bytes) -> Reply:
    return Reply(
        status=response.status_code,
        body=body,
        headers={k.lower(): v for k, v in response.headers.items()},
    )
