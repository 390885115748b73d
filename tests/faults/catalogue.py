"""The fault catalogue: each hostile answer, and the typed error a caller must get for it.

`CASES` is the single list the tests, the summary and docs/errors.md's table follow. A case
names the fault served on the data path (and optionally on the OAuth token path, for the
connectors that fetch a token), the caudal error expected, and whether the deadline or the
memory bound is what the case is about. `PACE` is the fast pace of `make test`;
`CAUDAL_FAULTS=slow` (`make faults`) switches to the pace the issue measured (one byte a
second, read_timeout=2, deadline=5) and to 1 GiB bombs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from caudal import CaudalError, MappingError, ProviderError, TransportError

from .hostile import Wire, answer, bomb, chunked, double_gzip, head

__all__ = ["CASES", "LIMIT", "PACE", "THIEF", "TOKEN_PATH", "Case", "Pace", "token_ok", "warm"]

TOKEN_PATH = "/oauth2/token"

LIMIT = 1 << 20
"""`max_response_bytes` of every connector in the catalogue: bombs are measured against it."""


@dataclass(frozen=True)
class Pace:
    interval: float
    read_timeout: float
    deadline: float
    slack: float
    """What a call may take beyond its deadline (a loaded 2-core machine; typically ~0.01 s)."""
    bomb_mib: int


SLOW = os.environ.get("CAUDAL_FAULTS") == "slow"
PACE = (
    Pace(interval=1.0, read_timeout=2.0, deadline=5.0, slack=2.0, bomb_mib=1024)
    if SLOW
    else Pace(interval=0.15, read_timeout=0.4, deadline=1.0, slack=1.5, bomb_mib=64)
)


@dataclass(frozen=True)
class Case:
    name: str
    data: Callable[[Wire], None]
    expect: type[CaudalError]
    token: Callable[[Wire], None] | None = None
    """The token endpoint's fault; None: it answers a good token (afc.cl only uses it)."""
    deadline: bool = False
    """The deadline is what ends it (drips and silences): the time bound is the point."""
    memory: bool = False
    """Peak memory is measured against `LIMIT` (bombs, oversized bodies)."""
    hits: int | None = None
    """Requests the data path must have seen (retries bounded), when it matters."""
    deadline_s: float = PACE.deadline
    """The call's deadline: longer for the retry cases, whose point is the count of attempts
    (a loaded machine must not cut the third attempt short)."""


def _token(wire: Wire) -> None:
    wire.send(answer(b'{"access_token": "hostile-token", "expires_in": 300}'))


def token_ok(wire: Wire) -> None:
    _token(wire)


def _unreached(wire: Wire) -> None:
    """The data path of a token fault: the call must never get this far."""
    wire.send(answer(b"[]", "500 Internal Server Error"))


def _drip_body(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Type: application/json", "Content-Length: 100000"))
    wire.drip(b"[" + b" " * 99_999)


def _drip_headers(wire: Wire) -> None:
    wire.drip(b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 9_000)


def _silence(wire: Wire) -> None:
    wire.hold()


def _silence_after_headers(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Type: application/json", "Content-Length: 100"))
    wire.hold()


def _reset_mid_body(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Length: 1000") + b'{"a": "' + b"x" * 100)
    wire.pause(0.05)
    wire.reset()


def _short_length(wire: Wire) -> None:
    body = b'{"padding": "' + b"x" * 2000 + b'"}'
    wire.send(head("200 OK", "Content-Type: application/json", "Content-Length: 10") + body)


def _long_length(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Type: application/json", "Content-Length: 5000") + b"[]")


def _chunked_garbage(wire: Wire) -> None:
    wire.send(head("200 OK", "Transfer-Encoding: chunked") + b"zz\r\nnot a chunk\r\n0\r\n\r\n")


def _bomb(encoding: str) -> Callable[[Wire], None]:
    def serve(wire: Wire) -> None:
        body = double_gzip(PACE.bomb_mib) if encoding == "gzip, gzip" else None
        body = body or bomb(encoding, PACE.bomb_mib)
        hdrs = (f"Content-Encoding: {encoding}", f"Content-Length: {len(body)}")
        wire.send(head("200 OK", "Content-Type: application/json", *hdrs) + body)

    serve.__name__ = f"{encoding} bomb"
    return serve


def warm() -> None:
    """Build the bombs before any call is measured (they are cached): the server builds them
    in its own thread, which a memory or time measurement of the call must not count."""
    bomb("gzip", PACE.bomb_mib)
    bomb("deflate", PACE.bomb_mib)
    double_gzip(PACE.bomb_mib)


def _oversized_declared(wire: Wire) -> None:
    wire.send(head("200 OK", f"Content-Length: {100 * LIMIT}") + b" " * 65536)
    wire.hold()


def _oversized_chunked(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Type: application/json", "Transfer-Encoding: chunked"))
    piece = chunked(b" " * 65536)
    for _ in range(4 * LIMIT // 65536):
        if not wire.send(piece):
            return
    wire.send(b"0\r\n\r\n")


def _deep_json(wire: Wire) -> None:
    depth = 200_000
    wire.send(answer(b"[" * depth + b"]" * depth))


THIEF: list[str] = []
"""The URL of the other host redirects point to (a hostile server on 127.0.0.2 that counts
what reaches it), set by the tests' fixture."""


def _redirect(wire: Wire) -> None:
    # Following it would carry the credentials and the end user's data to another host.
    location = f"Location: {THIEF[0]}/steal?token=x"
    wire.send(head("302 Found", location, "Content-Length: 0"))


def _duplicate_length(wire: Wire) -> None:
    wire.send(head("200 OK", "Content-Length: 2", "Content-Length: 7") + b"[]     ")


def _huge_header(wire: Wire) -> None:
    wire.send(head("200 OK", "X-Big: " + "a" * (1 << 20), "Content-Length: 2") + b"[]")


def _many_headers(wire: Wire) -> None:
    many = [f"X-H{i}: v" for i in range(50_000)]
    wire.send(head("200 OK", *many, "Content-Length: 2") + b"[]")


def _header_without_colon(wire: Wire) -> None:
    wire.send(head("200 OK", "this is not a header", "Content-Length: 2") + b"[]")


def _bad_status_line(wire: Wire) -> None:
    wire.send(b"HTTP/1.1 two hundred OK\r\nContent-Length: 2\r\n\r\n[]")


def _not_http(wire: Wire) -> None:
    wire.send(b"SSH-2.0-OpenSSH_9.6\r\n")


def _http09(wire: Wire) -> None:
    wire.send(b'[{"account": "1", "amount": 1}]')


def _tls_bytes(wire: Wire) -> None:
    wire.send(bytes.fromhex("160303007a020000760303") + bytes(range(32)) + b"\x00" * 40)


def _too_many(retry_after: bytes) -> Callable[[Wire], None]:
    def serve(wire: Wire) -> None:
        body = b'[{"code": "too_many_requests", "message": "slow down"}]'
        status = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
        rest = b"Retry-After: " + retry_after + f"\r\nContent-Length: {len(body)}\r\n".encode()
        wire.send(status + rest + b"Connection: close\r\n\r\n" + body)

    return serve


CASES: list[Case] = [
    Case("drip body", _drip_body, TransportError, deadline=True),
    Case("drip headers", _drip_headers, TransportError, deadline=True),
    Case("silence after connect", _silence, TransportError, deadline=True),
    Case("silence after headers", _silence_after_headers, TransportError, deadline=True),
    Case("reset mid-body", _reset_mid_body, TransportError),
    Case("content-length shorter than the body", _short_length, MappingError),
    Case("content-length longer than the body", _long_length, TransportError),
    Case("chunked encoding garbage", _chunked_garbage, TransportError),
    Case("gzip bomb", _bomb("gzip"), TransportError, memory=True, hits=1),
    Case("deflate bomb", _bomb("deflate"), TransportError, memory=True, hits=1),
    Case("gzip, gzip bomb", _bomb("gzip, gzip"), TransportError, memory=True, hits=1),
    Case("oversized, declared", _oversized_declared, TransportError, memory=True, hits=1),
    Case("oversized, chunked", _oversized_chunked, TransportError, memory=True, hits=1),
    Case("deeply nested JSON", _deep_json, MappingError, hits=1),
    Case("redirect to another host", _redirect, TransportError, hits=1),
    Case("duplicate content-length", _duplicate_length, TransportError),
    Case("1 MiB header", _huge_header, TransportError),
    Case("50,000 headers", _many_headers, TransportError),
    Case("header without a colon", _header_without_colon, TransportError),
    Case("garbage status line", _bad_status_line, TransportError),
    Case("not HTTP (SSH banner)", _not_http, TransportError),
    Case("HTTP/0.9-style answer", _http09, TransportError),
    Case("TLS bytes", _tls_bytes, TransportError),
    Case(
        "429, Retry-After overflows",
        _too_many(b"99999999999999999999"),
        ProviderError,
        hits=1,
        deadline_s=5.0,
    ),
    Case(
        "429, Retry-After Arabic-Indic digit",
        _too_many("٣".encode()),
        ProviderError,
        hits=3,
        deadline_s=5.0,
    ),
    Case(
        "429, Retry-After superscript digit",
        _too_many("³".encode()),
        ProviderError,
        hits=3,
        deadline_s=5.0,
    ),
    Case("429, Retry-After: 0", _too_many(b"0"), ProviderError, hits=3, deadline_s=5.0),
    Case("token: silence", _unreached, TransportError, token=_silence, deadline=True, hits=0),
    Case("token: drip body", _unreached, TransportError, token=_drip_body, deadline=True, hits=0),
    Case("token: gzip bomb", _unreached, TransportError, token=_bomb("gzip"), memory=True, hits=0),
    Case(
        "token: gzip, gzip bomb",
        _unreached,
        TransportError,
        token=_bomb("gzip, gzip"),
        memory=True,
        hits=0,
    ),
    Case("token: not HTTP", _unreached, TransportError, token=_not_http, hits=0),
    Case("token: redirect", _unreached, TransportError, token=_redirect, hits=0),
]
