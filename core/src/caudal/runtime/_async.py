"""Runs operations over pooled `httpx.AsyncClient`s, one set of pools per event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from ..errors import CaudalError
from ..exchange import Call, Reply, Request
from ..model import Pending, Result
from ..settings import ConnectorSettings
from ._deadline import http_timeouts
from ._http import (
    NO_AUTH,
    USE_CLIENT_DEFAULT,
    Body,
    Reader,
    Urls,
    build,
    client_options,
    deadline_passed,
    hand_over,
    not_followed,
    read_reply,
    transport_error,
)
from ._retry import Attempts

__all__ = ["POOL_CONNECTIONS", "AsyncRunner"]

POOL_CONNECTIONS = 8
"""Connections per `httpx.AsyncClient`; `max_connections` is split over as many as it takes.

httpcore's async pool does work proportional to its connections and waiting requests on every
request, so one pool of many connections is CPU-bound long before the network is. Measured on
loopback, 64 requests in flight with 100 ms latency each (ideal 640/s): one client of 64
connections 81 requests/s; 4 clients of 16: 451/s; 8 of 8: 535/s; 16 of 4: 514/s; 64 of 1: 501/s.
"""


class AsyncRunner:
    """The async twin of `SyncRunner`: same requests, same reader, same retry decisions.

    Each request goes to the least busy of several small pools (see `POOL_CONNECTIONS`); the
    connector's `max_connections` still bounds the connections of all of them together.
    An `httpx.AsyncClient` belongs to the loop it first ran on; a host app that calls
    `asyncio.run` twice gets fresh pools for the second loop instead of dead ones.
    """

    def __init__(
        self, settings: ConnectorSettings, auth: httpx.Auth | None, headers: dict[str, str]
    ) -> None:
        self._settings = settings
        self._auth = auth
        self._headers = headers
        self._urls = Urls()
        self._clients: list[httpx.AsyncClient] = []
        self._busy: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def _pools(self) -> list[httpx.AsyncClient]:
        loop = asyncio.get_running_loop()
        if not self._clients or self._loop is not loop:
            total = self._settings.max_connections
            count = -(-total // POOL_CONNECTIONS)
            sizes = [total // count + (i < total % count) for i in range(count)]
            self._clients = [
                httpx.AsyncClient(**client_options(self._settings, self._headers, n)) for n in sizes
            ]
            self._busy = [0] * count
            self._loop = loop
        return self._clients

    @property
    def client(self) -> httpx.AsyncClient:
        """The first pool (every pool has the same settings)."""
        return self._pools()[0]

    @property
    def settings(self) -> ConnectorSettings:
        return self._settings

    def url_of(self, request: Request) -> httpx.URL:
        """The absolute URL `request` goes to (what the page walk compares links with)."""
        return build(self.client, request, self._urls).url

    async def run(
        self, request: Request, read: Reader, call: Call[Any], deadline: float | None = None
    ) -> Result[Any] | Pending:
        """Send `request`, read the reply, retrying as the errors advise, within the deadline
        (`deadline` in monotonic seconds: a paged call's pages share one; the `deadline`
        setting from now when not given)."""
        attempts = Attempts(self._settings, deadline=deadline)
        while True:
            attempts.count += 1
            try:
                reply = await self.send(request, call, attempts.deadline)
                return read_reply(reply, read, call)
            except CaudalError as error:
                delay = attempts.delay_after(error)
                if delay is None:
                    error.attempts = attempts.count
                    raise
                await asyncio.sleep(delay)

    async def send(self, request: Request, call: Call[Any], deadline: float | None = None) -> Reply:
        """One HTTP exchange on the least busy pool, with its auth flow's token requests, each
        answer read up to the size limit, all cancelled at `deadline` (monotonic seconds; the
        `deadline` setting from now when not given)."""
        if deadline is None:
            deadline = time.monotonic() + self._settings.deadline
        clients = self._pools()
        busy = self._busy
        index = busy.index(min(busy))
        busy[index] += 1
        try:
            return await self._exchange(clients[index], request, call, deadline)
        finally:
            busy[index] -= 1

    async def _exchange(
        self, client: httpx.AsyncClient, request: Request, call: Call[Any], deadline: float
    ) -> Reply:
        in_flight = build(client, request, self._urls)
        # Cancels whatever is in flight at the deadline: a connect, a drip, a token request.
        bound = asyncio.timeout(deadline - time.monotonic())
        try:
            async with bound:
                if self._auth is None:
                    reply, _ = await self._fetch(
                        client, in_flight, call, deadline, USE_CLIENT_DEFAULT
                    )
                    return reply
                flow = self._auth.async_auth_flow(in_flight)
                try:
                    in_flight = await anext(flow)
                    while True:
                        reply, response = await self._fetch(
                            client, in_flight, call, deadline, NO_AUTH
                        )
                        try:
                            in_flight = await flow.asend(response)
                        except StopAsyncIteration:
                            return reply
                finally:
                    await flow.aclose()
        except TimeoutError:
            if not bound.expired():  # not the deadline's: a bug, shown as it is
                raise
            raise deadline_passed(in_flight, call) from None

    async def _fetch(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        call: Call[Any],
        deadline: float,
        auth: Any,
    ) -> tuple[Reply, httpx.Response]:
        """Send one request of the exchange and read its whole answer, bounded (see SyncRunner)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise deadline_passed(request, call)
        request.extensions["timeout"] = http_timeouts(self._settings, left)
        try:
            response = await client.send(request, stream=True, auth=auth)
            try:
                if response.has_redirect_location:
                    raise not_followed(response, request, call)
                body = Body(response, self._settings.max_response_bytes, request, call, deadline)
                async for chunk in response.aiter_raw():
                    body.add(chunk)
                reply = body.reply()
                return reply, hand_over(response, reply.body)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise transport_error(exc, request, call, deadline) from None

    async def aclose(self) -> None:
        if self._loop is asyncio.get_running_loop():
            for client in self._clients:
                await client.aclose()
        self._clients = []
        self._busy = []
        self._loop = None
