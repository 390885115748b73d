"""A hostile HTTP server on raw sockets: every fault the catalogue throws at caudal's clients.

It speaks just enough HTTP/1.1 to read one request per connection, then lets a `Fault` write
whatever it likes (drips, lies, silence, resets, bombs, garbage). It runs on 127.0.0.1 on an
ephemeral port in a background thread; every loop is bounded in count and in time, and the
whole server stops by itself after `lifetime` seconds even if nobody stops it.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

__all__ = ["Fault", "HostileServer", "Wire", "bomb"]

MAX_REQUEST = 64 * 1024
"""Bytes of one request read at most (head and body): the clients send a few hundred."""


@dataclass
class Wire:
    """One connection as a fault sees it: its socket, the request, and the server's pace."""

    sock: socket.socket
    method: str
    path: str
    interval: float
    """Seconds between two drips."""
    stopping: threading.Event
    until: float
    """`time.monotonic()` by which the fault must be done, whatever the client does."""

    def send(self, data: bytes) -> bool:
        """Send all of `data`; False once the client has gone (the fault should stop)."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def pause(self, seconds: float) -> bool:
        """Wait; False when the server stops or the fault's time is up."""
        seconds = min(seconds, self.until - time.monotonic())
        return seconds > 0 and not self.stopping.wait(seconds)

    def drip(self, data: bytes, limit: int = 10_000) -> None:
        """`data` one byte per `interval`, at most `limit` bytes, until the client goes."""
        for byte in data[:limit]:
            if not self.send(bytes([byte])) or not self.pause(self.interval):
                return

    def hold(self) -> None:
        """Say nothing until the client closes the connection or time is up."""
        self.sock.settimeout(0.05)
        while not self.stopping.is_set() and time.monotonic() < self.until:
            try:
                if not self.sock.recv(4096):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Fault = Callable[[Wire], None]


@dataclass
class HostileServer:
    """Serve `routes` (path prefix -> fault; `"*"` for every other path) on `host`.

    `interval`: the drip pace. `lifetime`: the server stops by itself after that long.
    """

    routes: dict[str, Fault]
    host: str = "127.0.0.1"
    interval: float = 0.2
    lifetime: float = 120.0
    max_connections: int = 200
    seen: list[str] = field(default_factory=list)
    """`METHOD path` of every request read, in order."""
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _listener: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._listener is not None
        return f"http://{self.host}:{self._listener.getsockname()[1]}"

    def __enter__(self) -> HostileServer:
        self._listener = socket.create_server((self.host, 0))
        self._listener.settimeout(0.05)
        self._until = time.monotonic() + self.lifetime
        thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(5)
        assert self._listener is not None
        self._listener.close()

    def _accept(self) -> None:
        assert self._listener is not None
        accepted = 0
        while accepted < self.max_connections and not self._stopping.is_set():
            if time.monotonic() > self._until:
                return
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted += 1
            thread = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, sock: socket.socket) -> None:
        try:
            method, path = _read_request(sock, self._stopping, self._until)
            self.seen.append(f"{method} {path}")
            fault = next(
                (f for prefix, f in self.routes.items() if path.startswith(prefix)),
                self.routes.get("*"),
            )
            if fault is not None:
                sock.settimeout(5)  # a send the client does not read for 5 s ends the fault
                wire = Wire(sock, method, path, self.interval, self._stopping, self._until)
                fault(wire)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def _read_request(sock: socket.socket, stopping: threading.Event, until: float) -> tuple[str, str]:
    """The request line of one request; its head and body are read (bounded) and dropped."""
    sock.settimeout(0.05)
    data = b""

    def more() -> bytes | None:
        while not stopping.is_set() and time.monotonic() < until:
            try:
                return sock.recv(4096)
            except TimeoutError:
                continue
        return None

    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
        chunk = more()
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    sizes = [
        v for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"
    ]
    length = int(sizes[0]) if sizes and sizes[0].strip().isdigit() else 0
    while len(body) < min(length, MAX_REQUEST):
        chunk = more()
        if not chunk:
            break
        body += chunk
    method, path, *_ = [*lines[0].split(" "), "", ""][:3]
    return method, path


# -- answers ----------------------------------------------------------------------------------


def head(status: str = "200 OK", *headers: str) -> bytes:
    """A status line and headers (`Connection: close` added)."""
    lines = [f"HTTP/1.1 {status}", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def answer(body: bytes, status: str = "200 OK", *headers: str) -> bytes:
    """A whole, honest answer."""
    return (
        head(status, "Content-Type: application/json", f"Content-Length: {len(body)}", *headers)
        + body
    )


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


# -- bombs ------------------------------------------------------------------------------------

_BLOCK = 1 << 20


@cache
def bomb(encoding: str, mib: int) -> bytes:
    """`mib` MiB of zeros compressed as `encoding` (gzip or deflate), built in a blink.

    Each MiB is compressed after a full flush, so every MiB after the first compresses to the
    same bytes: the stream is the first block, the repeated one and a trailer whose checksum
    and length are computed for the whole body (a real, valid stream of about 1 KiB per MiB).
    """
    wbits = 31 if encoding == "gzip" else 15
    z = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(_BLOCK)
    first = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(block) + z.flush(zlib.Z_FULL_FLUSH)
    assert z.compress(block) + z.flush(zlib.Z_FULL_FLUSH) == again
    end = z.flush()
    check = 0 if encoding == "gzip" else 1
    checksum = zlib.crc32 if encoding == "gzip" else zlib.adler32
    for _ in range(mib):
        check = checksum(block, check)
    if encoding == "gzip":
        tail = end[:-8] + struct.pack("<II", check, (mib * _BLOCK) & 0xFFFFFFFF)
    else:
        tail = end[:-4] + struct.pack(">I", check)
    return first + again * (mib - 1) + tail


@cache
def double_gzip(mib: int) -> bytes:
    """`content-encoding: gzip, gzip`: the bomb gzipped again (a few KiB for a GiB)."""
    return gzip.compress(bomb("gzip", mib), 9)


def nested(depth: int) -> Iterator[bytes]:
    yield b"[" * depth
    yield b"]" * depth
