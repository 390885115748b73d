"""Loopback servers of the call benchmarks, each run in its own process so the server's work
does not share the client's interpreter lock. Both print their base URL and serve on 127.0.0.1
until stdin closes.

- `python -m bench._server sandbox`: caudal's sandbox, every plugin's emulator (uvicorn).
- `python -m bench._server minimal`: a bare asyncio HTTP/1.1 server answering
  `POST .../api/br/balances/` with the Belvo emulator's very body for the documented link,
  after the delay a `slow-<seconds>` link asks for. About ten times cheaper per request than
  uvicorn + starlette, so the figures measure the client, not the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

__all__ = ["main"]


def _belvo_body() -> bytes:
    from caudal_belvo.emulator import EXAMPLE_LINK, json_text, seeded_accounts

    return json_text(seeded_accounts(EXAMPLE_LINK)).encode()


class _Http(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; one request at a time per connection (as httpx sends them)."""

    def __init__(self, body: bytes) -> None:
        head = (
            f"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        )
        self.answer = head.encode() + b"\r\n\r\n" + body
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            payload = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            delay = 0.0
            try:
                link = str(json.loads(payload).get("link", ""))
                if link.startswith("slow-"):
                    delay = float(link.split("-")[1])
            except (ValueError, AttributeError, IndexError):
                pass
            loop = asyncio.get_running_loop()
            loop.call_later(delay, self._answer) if delay else self._answer()

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.answer)


def _minimal() -> None:
    body = _belvo_body()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Http(body), "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        print(f"http://127.0.0.1:{port}", flush=True)
        stop = asyncio.Event()
        threading.Thread(
            target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True
        ).start()
        async with server:
            await stop.wait()

    asyncio.run(serve())


def _sandbox() -> None:
    from caudal.sandbox import serve

    with serve(host="127.0.0.1", port=0) as sandbox:
        print(sandbox.url, flush=True)
        sys.stdin.read()


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sandbox"
    _minimal() if kind == "minimal" else _sandbox()


if __name__ == "__main__":
    main()
