"""Undoing a response's `content-encoding` without ever holding more than the size limit.

httpx's decoders inflate each received chunk whole: a 64 KiB chunk of a gzip bomb becomes
64 MiB in one call, and `content-encoding: gzip, gzip` turns that into 64 GiB, all before any
size check can run. Here every inflate is asked for at most the room left under
`max_response_bytes` (plus one byte, to notice the overflow), so the decoded body, counted
after decoding, never passes the limit in memory either.
"""

from __future__ import annotations

import zlib

__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "DecodingFailed", "Decoder", "decoder_for"]

ACCEPT_ENCODING = "gzip, deflate"
"""What caudal asks for: the encodings it decodes with a bound (httpx would add br and zstd
when their packages happen to be installed, decoded unbounded)."""

MAX_LAYERS = 2
"""Encodings stacked on one body (`gzip, gzip`) accepted; each layer multiplies a bomb."""


class BodyTooLarge(Exception):
    """The decoded body would pass the size limit."""


class DecodingFailed(Exception):
    """The body does not decode as its `content-encoding` says (the reason is safe to show)."""


class _Inflate:
    """One gzip or deflate layer. Deflate is zlib-wrapped by the RFC; raw deflate is accepted
    too (as httpx does), tried when the first bytes are not a zlib header."""

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._head: bytes | None = b"" if encoding == "deflate" else None
        """The first bytes fed, while a zlib header is still being read (deflate only)."""
        wbits = zlib.MAX_WBITS if encoding == "deflate" else zlib.MAX_WBITS | 16
        self._inflate = zlib.decompressobj(wbits)

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate `data` into at most `room` bytes; more raises `BodyTooLarge`."""
        try:
            out = self._inflate.decompress(data, room + 1)
        except zlib.error:
            if self._head is None:
                raise DecodingFailed(f"the body is not valid {self._encoding} data") from None
            data, self._head = self._head + data, None
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, room)
        if self._head is not None:
            head = self._head + data
            self._head = head if len(head) < 2 else None  # a zlib header is two bytes
        if len(out) > room:
            raise BodyTooLarge
        return out

    def finish(self) -> None:
        if not self._inflate.eof:
            raise DecodingFailed(f"the {self._encoding} body ended before its end marker")


class Decoder:
    """The layers of one response's content-encoding, undone in reverse order of application."""

    def __init__(self, layers: list[_Inflate]) -> None:
        self._layers = layers

    def feed(self, data: bytes, room: int) -> bytes:
        for layer in self._layers:
            data = layer.feed(data, room)
        return data

    def finish(self) -> None:
        for layer in self._layers:
            layer.finish()


def decoder_for(encodings: list[str]) -> Decoder | None:
    """The decoder for a response's `content-encoding` values; None when it is not encoded."""
    names = [e.strip().lower() for e in encodings]
    names = [n for n in names if n and n != "identity"]
    if not names:
        return None
    unknown = sorted({n for n in names if n not in ("gzip", "x-gzip", "deflate")})
    if unknown:
        shown = ", ".join(n[:20] for n in unknown[:3])
        raise DecodingFailed(f"content-encoding {shown} was not asked for ({ACCEPT_ENCODING})")
    if len(names) > MAX_LAYERS:
        raise DecodingFailed(f"{len(names)} stacked content-encodings (at most {MAX_LAYERS})")
    return Decoder([_Inflate("deflate" if n == "deflate" else "gzip") for n in reversed(names)])
