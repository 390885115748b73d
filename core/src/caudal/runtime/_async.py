"""Runs operations over a pooled `httpx.AsyncClient`, one pool per event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ..errors import CaudalError
from ..exchange import Call, Reply, Request
from ..model import Pending, Result
from ..settings import ConnectorSettings
from ._http import Reader, build, client_options, read_reply, reply_of, too_large, transport_error
from ._retry import Attempts

__all__ = ["AsyncRunner"]


class AsyncRunner:
    """The async twin of `SyncRunner`: same requests, same reader, same retry decisions.

    An `httpx.AsyncClient` belongs to the loop it first ran on; a host app that calls
    `asyncio.run` twice gets a fresh pool for the second loop instead of a dead one.
    """

    def __init__(
        self, settings: ConnectorSettings, auth: httpx.Auth | None, headers: dict[str, str]
    ) -> None:
        self._settings = settings
        self._auth = auth
        self._headers = headers
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            opts = client_options(self._settings, self._auth, self._headers)
            self._client = httpx.AsyncClient(**opts)
            self._loop = loop
        return self._client

    async def run(self, request: Request, read: Reader, call: Call[Any]) -> Result[Any] | Pending:
        """Send `request`, read the reply, retrying as the errors advise."""
        attempts = Attempts(self._settings)
        while True:
            attempts.count += 1
            try:
                return read_reply(await self.send(request, call), read, call)
            except CaudalError as error:
                delay = attempts.delay_after(error)
                if delay is None:
                    error.attempts = attempts.count
                    raise
                await asyncio.sleep(delay)

    async def send(self, request: Request, call: Call[Any]) -> Reply:
        """One HTTP exchange, the body read up to the size limit."""
        client = self.client
        http_request = build(client, request)
        limit = self._settings.max_response_bytes
        try:
            response = await client.send(http_request, stream=True)
            try:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise too_large(limit, http_request, call)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise too_large(limit, http_request, call)
                    chunks.append(chunk)
                return reply_of(response, b"".join(chunks))
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise transport_error(exc, http_request, call) from None

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._loop = None
