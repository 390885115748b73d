"""A real HTTP server on 127.0.0.1 that answers every request with one configured reply, and
the settings and parameters that aim each connector at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from caudal import Connector, registry

SECRETS = {
    "api_key": "KHIPU-API-KEY-7f3c1e9a",
    "secret_id": "BELVO-SECRET-ID-5d2b8c41",
    "secret_password": "BELVO-SECRET-PASSWORD-a9e07f66",
    "password": "END-USER-PASSWORD-3b6d2e18",
    "token": "CHALLENGE-TOKEN-84c1f0d5",
}
"""Distinctive secrets: found anywhere, they can only have come from here."""

CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("afc.cl", "balance", {}),
    ("afc.cl", "contributions", {}),
    ("bancosecurity.cl", "balance", {"account_number": "11887755"}),
    ("bancosecurity.cl", "loans", {}),
    ("belvo.br", "balance", {"link": "link-1"}),
)


def params(connector: str, extra: dict[str, Any]) -> dict[str, Any]:
    """A call's parameters; Khipu's carry the end user's password."""
    if connector == "belvo.br":
        return dict(extra)
    return {"credential": {"Username": "11222333-9", "Password": SECRETS["password"]}, **extra}


def connect(connector: str, base_url: str, **settings: Any) -> Connector:
    """The connector aimed at `base_url` with the distinctive secrets, one attempt."""
    if connector == "belvo.br":
        keys = {"secret_id": SECRETS["secret_id"], "secret_password": SECRETS["secret_password"]}
    else:
        keys = {"api_key": SECRETS["api_key"]}
    return registry.get(
        connector, base_url=base_url, max_attempts=1, backoff=0.0, **keys, **settings
    )


@dataclass
class Fault:
    """What the server answers: status, headers, body."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    fault: Fault

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        fault = self.server.fault  # type: ignore[attr-defined]
        self.send_response(fault.status)
        for name, value in fault.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(fault.body)))
        self.end_headers()
        self.wfile.write(fault.body)

    do_POST = do_PATCH = do_GET = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    """The server's base URL and the server (set `server.fault`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.fault = Fault()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
