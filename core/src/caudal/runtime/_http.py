"""What the sync and async runners share: building httpx requests, limits, error translation."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import RetryAdvice, TransportError
from ..exchange import Call, Reply, Request
from ._decode import ACCEPT_ENCODING, BodyTooLarge, DecodingFailed, decoder_for

if TYPE_CHECKING:
    from ..model import Pending, Result
from ..mapping import mapping_errors
from ..settings import ConnectorSettings

__all__ = [
    "NO_AUTH",
    "USE_CLIENT_DEFAULT",
    "Body",
    "Urls",
    "build",
    "client_options",
    "deadline_passed",
    "hand_over",
    "not_followed",
    "read_reply",
    "too_large",
    "transport_error",
    "url_of",
]

Reader = Callable[[Reply, Call[Any]], "Result[Any] | Pending"]

NO_AUTH = httpx.Auth()
"""Passed to httpx for requests whose auth the runner has already applied (its flow's)."""
USE_CLIENT_DEFAULT: Any = httpx.USE_CLIENT_DEFAULT
"""Passed to httpx when the connector has no auth flow: httpx's own default then applies
(basic auth from a base URL's userinfo)."""


def client_options(
    settings: ConnectorSettings, headers: dict[str, str], connections: int | None = None
) -> dict[str, Any]:
    """Keyword arguments for `httpx.Client` / `httpx.AsyncClient` of one connector.

    `connections`: the pool's size when the connector's `max_connections` is split over
    several pools (the async runner does). The client has no auth: the runner drives the
    connector's auth flow itself, so token requests are sent and bounded like data requests.
    """
    size = settings.max_connections if connections is None else connections
    return {
        "base_url": settings.base_url,
        "headers": {
            "user-agent": "caudal",
            "accept": "application/json",
            "accept-encoding": ACCEPT_ENCODING,
            **headers,
        },
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
    exc: httpx.HTTPError, request: httpx.Request, call: Call[Any], deadline: float | None = None
) -> TransportError:
    """A typed, secret-free error for an httpx failure.

    A timeout at or after the call's `deadline` (monotonic seconds) is named as the deadline's:
    the deadline bound (see `_deadline`) never fires before it.
    """
    where = url_of(request)
    if isinstance(exc, httpx.TimeoutException):
        if deadline is not None and time.monotonic() >= deadline:
            return deadline_passed(request, call)
        what = f"timed out ({type(exc).__name__}) talking to {where}"
    elif isinstance(exc, httpx.ConnectError):
        what = f"could not connect to {where}"
    else:
        what = f"{type(exc).__name__} talking to {where}"
    return TransportError(what, connector=call.connector, capability=call.capability)


def deadline_passed(request: httpx.Request, call: Call[Any]) -> TransportError:
    """The call ran out of time (its `deadline` setting) while talking to `request`'s URL."""
    return TransportError(
        f"timed out: the call's deadline (the `deadline` setting) passed while talking to "
        f"{url_of(request)}",
        connector=call.connector,
        capability=call.capability,
    )


def not_followed(
    response: httpx.Response, request: httpx.Request, call: Call[Any]
) -> TransportError:
    """A redirect, never followed: credentials and end-user data go only to the configured URL.

    Raised by the runner for every connector alike (a redirect is not any provider's
    documented answer); the target is not shown, its query may carry tokens.
    """
    return TransportError(
        f"{url_of(request)} answered HTTP {response.status_code}, a redirect caudal does not "
        "follow (check base_url)",
        connector=call.connector,
        capability=call.capability,
        status=response.status_code,
        retry=RetryAdvice.NEVER,
    )


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
    """Collects a streamed response body, decoding it, refusing it once it passes the limit.

    The declared `content-length` is checked first, so an honest oversized answer is refused
    before a byte of it is read; a lying or chunked one is cut at the limit. The limit counts
    decoded bytes, and a compressed body is inflated into at most the room left (see
    `_decode`); the call's `deadline` is checked between chunks too.
    """

    def __init__(
        self,
        response: httpx.Response,
        limit: int,
        request: httpx.Request,
        call: Call[Any],
        deadline: float,
    ) -> None:
        self._response, self._limit, self._request, self._call = response, limit, request, call
        self._deadline = deadline
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise too_large(limit, request, call)
        try:
            self._decoder = decoder_for(response.headers.get_list("content-encoding", True))
        except DecodingFailed as exc:
            raise self._undecodable(exc) from None

    def add(self, raw: bytes) -> None:
        """One chunk as received (still encoded)."""
        if time.monotonic() >= self._deadline:
            raise deadline_passed(self._request, self._call)
        chunk = raw
        if self._decoder is not None:
            try:
                chunk = self._decoder.feed(raw, self._limit - self._size)
            except BodyTooLarge:
                raise too_large(self._limit, self._request, self._call) from None
            except DecodingFailed as exc:
                raise self._undecodable(exc) from None
        self._size += len(chunk)
        if self._size > self._limit:
            raise too_large(self._limit, self._request, self._call)
        self._chunks.append(chunk)

    def reply(self) -> Reply:
        if self._decoder is not None:
            try:
                self._decoder.finish()
            except DecodingFailed as exc:
                raise self._undecodable(exc) from None
        return reply_of(self._response, b"".join(self._chunks))

    def _undecodable(self, exc: DecodingFailed) -> TransportError:
        return TransportError(
            f"response from {url_of(self._request)} cannot be decoded: {exc}",
            connector=self._call.connector,
            capability=self._call.capability,
        )


def reply_of(response: httpx.Response, body: bytes) -> Reply:
    return Reply(
        status=response.status_code,
        body=body,
        headers={k.lower(): v for k, v in response.headers.items()},
    )


def hand_over(response: httpx.Response, body: bytes) -> httpx.Response:
    """`response` as an auth flow expects it: read, its content the body caudal read.

    The runner drives `httpx.Auth` flows itself (so a token request is sent, timed and
    size-limited like any other); a flow that reads a response gets the bytes already read
    and decoded, as httpx would give them (headers untouched). Setting httpx's own content
    attribute costs nothing; building a second response measured 10-30 us, a few % of a call.
    """
    response._content = body  # httpx's cache of the read body
    return response
