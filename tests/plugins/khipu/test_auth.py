"""The auth flows on a mock transport: headers, token caching, expiry, refresh, failures."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from caudal import AuthenticationError, ProviderError, RetryAdvice
from caudal_khipu.auth import ApiKeyAuth, BearerAuth, ClientCredentialsAuth

TOKEN_URL = "https://id.example/oauth2/token"
API = "https://api.example/v1/x"


class Khipu:
    """A fake token endpoint and API: counts tokens issued, accepts only live ones."""

    def __init__(self, expires_in: float | None = 3600, token_status: int = 200) -> None:
        self.expires_in = expires_in
        self.token_status = token_status
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.forms: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json={"ok": token})

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(parse_qs(request.content.decode()))
        if self.token_status != 200:
            return httpx.Response(self.token_status, json={"error": "invalid_client"})
        token = f"tok-{len(self.issued)}"
        self.issued.append(token)
        body: dict[str, object] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return httpx.Response(200, json=body)


def _auth(leeway: float = 30.0) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        TOKEN_URL, "cid", SecretStr("csecret"), scope="read", leeway=leeway, connector="afc.cl"
    )


def _client(khipu: Khipu, auth: httpx.Auth) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(khipu), auth=auth)


def test_token_fetched_once_and_cached() -> None:
    khipu, auth = Khipu(), _auth()
    with _client(khipu, auth) as client:
        answers = [client.post(API).json()["ok"] for _ in range(3)]
    assert answers == ["tok-0"] * 3
    assert khipu.forms == [
        {
            "grant_type": ["client_credentials"],
            "client_id": ["cid"],
            "client_secret": ["csecret"],
            "scope": ["read"],
        }
    ]
    assert auth.cached_token() == "tok-0"


def test_expired_token_is_replaced() -> None:
    khipu, auth = Khipu(expires_in=10), _auth(leeway=30)  # already stale when it arrives
    with _client(khipu, auth) as client:
        assert [client.post(API).json()["ok"] for _ in range(2)] == ["tok-0", "tok-1"]


def test_missing_expires_in_is_trusted_for_a_while() -> None:
    khipu, auth = Khipu(expires_in=None), _auth()
    with _client(khipu, auth) as client:
        client.post(API)
        client.post(API)
    assert khipu.issued == ["tok-0"]


def test_revoked_token_is_refreshed_once_on_401() -> None:
    khipu, auth = Khipu(), _auth()
    with _client(khipu, auth) as client:
        client.post(API)
        khipu.revoked.add("tok-0")
        assert client.post(API).json()["ok"] == "tok-1"
    assert auth.cached_token() == "tok-1"


def test_a_fresh_token_rejected_is_not_fetched_again() -> None:
    khipu, auth = Khipu(), _auth()
    khipu.revoked.update({"tok-0", "tok-1"})
    with _client(khipu, auth) as client:
        assert client.post(API).status_code == 401
    assert khipu.issued == ["tok-0"]


def test_invalidate_after_a000() -> None:
    khipu, auth = Khipu(), _auth()
    with _client(khipu, auth) as client:
        client.post(API)
        auth.invalidate("some-other-token")
        assert auth.cached_token() == "tok-0"
        auth.invalidate()
        assert client.post(API).json()["ok"] == "tok-1"


async def test_async_client_shares_the_flow() -> None:
    khipu, auth = Khipu(), _auth()
    async with httpx.AsyncClient(transport=httpx.MockTransport(khipu), auth=auth) as client:
        first = await client.post(API)
        second = await client.post(API)
    assert first.json() == second.json() == {"ok": "tok-0"}
    assert khipu.issued == ["tok-0"]


def test_refused_client_credentials() -> None:
    khipu = Khipu(token_status=401)
    with _client(khipu, _auth()) as client, pytest.raises(AuthenticationError) as caught:
        client.post(API)
    error = caught.value
    assert (error.status, error.category, error.retry) == (401, "auth", RetryAdvice.NEVER)
    assert "invalid_client" in str(error)
    assert "csecret" not in str(error)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_token_endpoint_trouble_is_retryable(status: int) -> None:
    with (
        _client(Khipu(token_status=status), _auth()) as client,
        pytest.raises(ProviderError) as caught,
    ):
        client.post(API)
    assert caught.value.retry is RetryAdvice.NOW


def test_token_endpoint_garbage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>")

    client = httpx.Client(transport=httpx.MockTransport(handler), auth=_auth())
    with client, pytest.raises(ProviderError, match="usable access_token"):
        client.post(API)


def _seen(auth: httpx.Auth) -> httpx.Headers:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.post(API)
    return captured[0].headers


def test_api_key_and_bearer_headers() -> None:
    assert _seen(ApiKeyAuth(SecretStr("k-1")))["x-api-key"] == "k-1"
    assert _seen(BearerAuth(SecretStr("j-1")))["authorization"] == "Bearer j-1"
    assert "authorization" not in _seen(ApiKeyAuth(SecretStr("k-1")))


def test_reprs_hide_secrets() -> None:
    shown = repr(ApiKeyAuth(SecretStr("k-1"))) + repr(BearerAuth(SecretStr("j-1"))) + repr(_auth())
    assert not any(s in shown for s in ("k-1", "j-1", "csecret"))
    assert json.dumps(shown)
