"""httpx auth flows for Khipu: API key, a given bearer token, or OAuth2 client credentials.

Each is an `httpx.Auth`, so the same object serves the connector's sync and async clients and
secrets live only inside it (never in the client's default headers, reprs or messages).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from caudal import AuthenticationError, ProviderError, RetryAdvice
from caudal.mapping import load_json
from caudal.runtime import parse_retry_after

from .settings import KhipuSettings

__all__ = ["ApiKeyAuth", "BearerAuth", "ClientCredentialsAuth", "auth_for"]

DEFAULT_TOKEN_LIFETIME = 300.0
"""Seconds a token is trusted when the token endpoint does not say (`expires_in` missing)."""


class ApiKeyAuth(httpx.Auth):
    """`x-api-key: <key>` on every request."""

    def __init__(self, api_key: SecretStr) -> None:
        self._key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._key.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key=**********)"


class BearerAuth(httpx.Auth):
    """`Authorization: Bearer <jwt>` with a token the host app already holds."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=**********)"


class _TokenReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: float | None = None


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # time.monotonic()


# A step of the flow: the request to send and whether its response body must be read first.
_Step = tuple[httpx.Request, bool]


class ClientCredentialsAuth(httpx.Auth):
    """OAuth2 client-credentials grant: fetch a token, cache it until expiry, refresh on 401.

    caudal's runtime drives this flow itself: the token request is sent like the data request
    it precedes (same client, the call's deadline, the same timeouts and `max_response_bytes`
    limit), and each response is handed back already read within those bounds. The flow still
    reads the token response itself, so it also works as a plain httpx auth.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        scope: str | None = None,
        leeway: float = 30.0,
        connector: str | None = None,
    ) -> None:
        self._url = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._scope = scope
        self._leeway = leeway
        self._connector = connector
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self._url!r}, client_id={self._client_id!r})"

    # -- the cache ----------------------------------------------------------------------------

    def cached_token(self) -> str | None:
        """The cached token while it is still good (for tests and diagnostics)."""
        with self._lock:
            token = self._token
        if token is None or time.monotonic() >= token.expires_at:
            return None
        return token.value

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when given): Khipu refused it."""
        with self._lock:
            if self._token is not None and (token is None or self._token.value == token):
                self._token = None

    def _store(self, reply: _TokenReply) -> str:
        lifetime = DEFAULT_TOKEN_LIFETIME if reply.expires_in is None else reply.expires_in
        with self._lock:
            self._token = _Token(reply.access_token, time.monotonic() + lifetime - self._leeway)
        return reply.access_token

    # -- the flow ------------------------------------------------------------------------------

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._secret.get_secret_value(),
        }
        if self._scope:
            form["scope"] = self._scope
        return httpx.Request("POST", self._url, data=form, headers={"accept": "application/json"})

    def _read_token(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise self._token_error(response)
        try:
            reply = _TokenReply.model_validate(load_json(response.content))
        except (ValueError, RecursionError, ValidationError):
            raise ProviderError(
                "OAuth2 token endpoint answered without a usable access_token",
                connector=self._connector,
                category="auth",
                status=response.status_code,
            ) from None
        return self._store(reply)

    def _token_error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        if status >= 500 or status == 429:
            return ProviderError(
                f"OAuth2 token endpoint failed with HTTP {status}",
                connector=self._connector,
                category="infrastructure" if status >= 500 else "rate_limited",
                status=status,
                retry=RetryAdvice.NOW,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        reason = _oauth_error_code(response)
        return AuthenticationError(
            f"OAuth2 token endpoint refused the client credentials (HTTP {status}{reason})",
            connector=self._connector,
            category="auth",
            status=status,
        )

    def _flow(self, request: httpx.Request) -> Generator[_Step, httpx.Response, None]:
        token = self.cached_token()
        fresh = token is None
        if token is None:
            token = self._read_token((yield self._token_request(), True))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request, False
        if response.status_code == 401 and not fresh:
            # The cached token was revoked or expired early: one fresh token, one more try.
            self.invalidate(token)
            token = self._read_token((yield self._token_request(), True))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request, False

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self._flow(request)
        outgoing, wants_body = next(flow)
        while True:
            response = yield outgoing
            if wants_body:
                response.read()
            try:
                outgoing, wants_body = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self._flow(request)
        outgoing, wants_body = next(flow)
        while True:
            response = yield outgoing
            if wants_body:
                await response.aread()
            try:
                outgoing, wants_body = flow.send(response)
            except StopIteration:
                return


def _oauth_error_code(response: httpx.Response) -> str:
    # RFC 6749 `error` codes (`invalid_client`, ...) are safe to show; descriptions may not be.
    try:
        code = load_json(response.content).get("error")
    except (ValueError, RecursionError, AttributeError):
        return ""
    return f": {code}" if isinstance(code, str) and code.isidentifier() else ""


def auth_for(settings: KhipuSettings, connector: str | None = None) -> httpx.Auth | None:
    """The auth flow the settings ask for; None when none is configured (calls then refuse)."""
    if settings.jwt is not None:
        return BearerAuth(settings.jwt)
    if settings.client_id is not None and settings.client_secret is not None:
        return ClientCredentialsAuth(
            settings.resolved_oauth_url,
            settings.client_id,
            settings.client_secret,
            scope=settings.oauth_scope,
            leeway=settings.oauth_leeway,
            connector=connector,
        )
    if settings.api_key is not None:
        return ApiKeyAuth(settings.api_key)
    return None
