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
from ._deadline import bounded_transport, http_timeouts, within
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

__all__ = ["SyncRunner"]


class SyncRunner:
    """One connection pool per connector; thread-safe to share, created on first use.

    Every call is bounded by its deadline, in flight included: the pool's connections cap each
    connect, write and read at the time left (see `_deadline`), so a server that drips bytes
    cannot hold a call past it, and the auth flow's token requests go the same way.
    """

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
                    opts = client_options(self._settings, self._headers)
                    opts["transport"] = bounded_transport(opts["limits"])
                    self._client = httpx.Client(**opts)
        return self._client

    @property
    def settings(self) -> ConnectorSettings:
        return self._settings

    def url_of(self, request: Request) -> httpx.URL:
        """The absolute URL `request` goes to (what the page walk compares links with)."""
        return build(self.client, request, self._urls).url

    def run(
        self, request: Request, read: Reader, call: Call[Any], deadline: float | None = None
    ) -> Result[Any] | Pending:
        """Send `request`, read the reply, retrying as the errors advise, within the deadline
        (`deadline` in monotonic seconds: a paged call's pages share one; the `deadline`
        setting from now when not given)."""
        attempts = Attempts(self._settings, deadline=deadline)
        with within(attempts.deadline):
            while True:
                attempts.count += 1
                try:
                    return read_reply(self.send(request, call, attempts.deadline), read, call)
                except CaudalError as error:
                    delay = attempts.delay_after(error)
                    if delay is None:
                        error.attempts = attempts.count
                        raise
                    time.sleep(delay)

    def send(self, request: Request, call: Call[Any], deadline: float | None = None) -> Reply:
        """One HTTP exchange (with its auth flow's token requests), each answer read up to the
        size limit, all over by `deadline` (monotonic seconds; the `deadline` setting from now
        when not given)."""
        if deadline is None:
            deadline = time.monotonic() + self._settings.deadline
            with within(deadline):
                return self.send(request, call, deadline)
        client = self.client
        http_request = build(client, request, self._urls)
        if self._auth is None:
            return self._fetch(client, http_request, call, deadline, USE_CLIENT_DEFAULT)[0]
        flow = self._auth.sync_auth_flow(http_request)
        try:
            outgoing = next(flow)
            while True:
                reply, response = self._fetch(client, outgoing, call, deadline, NO_AUTH)
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return reply
        finally:
            flow.close()

    def _fetch(
        self,
        client: httpx.Client,
        request: httpx.Request,
        call: Call[Any],
        deadline: float,
        auth: Any,
    ) -> tuple[Reply, httpx.Response]:
        """Send one request of the exchange and read its whole answer, bounded.

        `auth`: NO_AUTH when the runner's flow applied it, else httpx's client default (which
        keeps httpx's basic auth from a base URL's userinfo).
        """
        left = deadline - time.monotonic()
        if left <= 0:
            raise deadline_passed(request, call)
        request.extensions["timeout"] = http_timeouts(self._settings, left)
        try:
            response = client.send(request, stream=True, auth=auth)
            try:
                if response.has_redirect_location:
                    raise not_followed(response, request, call)
                body = Body(response, self._settings.max_response_bytes, request, call, deadline)
                for chunk in response.iter_raw():
                    body.add(chunk)
                reply = body.reply()
                return reply, hand_over(response, reply.body)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise transport_error(exc, request, call, deadline) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
