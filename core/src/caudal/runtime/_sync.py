"""Runs operations over a pooled `httpx.Client`."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from ..errors import CaudalError
from ..exchange import Call, Reply, Request
from ..model import Pending, Result
from ..settings import ConnectorSettings
from ._http import Body, Reader, Urls, build, client_options, read_reply, transport_error
from ._retry import Attempts

__all__ = ["SyncRunner"]


class SyncRunner:
    """One connection pool per connector; thread-safe to share, created on first use."""

    def __init__(
        self, settings: ConnectorSettings, auth: httpx.Auth | None, headers: dict[str, str]
    ) -> None:
        self._settings = settings
        self._auth = auth
        self._headers = headers
        self._urls = Urls()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    opts = client_options(self._settings, self._auth, self._headers)
                    self._client = httpx.Client(**opts)
        return self._client

    @property
    def settings(self) -> ConnectorSettings:
        return self._settings

    def url_of(self, request: Request) -> httpx.URL:
        """The absolute URL `request` goes to (what the page walk compares links with)."""
        return build(self.client, request, self._urls).url

    def run(self, request: Request, read: Reader, call: Call[Any]) -> Result[Any] | Pending:
        """Send `request`, read the reply, retrying as the errors advise."""
        attempts = Attempts(self._settings)
        while True:
            attempts.count += 1
            try:
                return read_reply(self.send(request, call), read, call)
            except CaudalError as error:
                delay = attempts.delay_after(error)
                if delay is None:
                    error.attempts = attempts.count
                    raise
                time.sleep(delay)

    def send(self, request: Request, call: Call[Any]) -> Reply:
        """One HTTP exchange, the body read up to the size limit."""
        client = self.client
        http_request = build(client, request, self._urls)
        limit = self._settings.max_response_bytes
        try:
            response = client.send(http_request, stream=True)
            try:
                body = Body(response, limit, http_request, call)
                for chunk in response.iter_bytes():
                    body.add(chunk)
                return body.reply()
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise transport_error(exc, http_request, call) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
