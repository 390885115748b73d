"""Settings, basic auth, and where secrets must never show."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from caudal import ConfigurationError, registry
from caudal_belvo import PRODUCTION_URL, SANDBOX_URL, BelvoBrConnector, BelvoSettings

from .examples import CREDENTIALS, DOC_BALANCE, DOC_LINK


def test_production_is_the_default_base_url() -> None:
    assert BelvoSettings(**CREDENTIALS).base_url == PRODUCTION_URL == "https://api.belvo.com"
    assert SANDBOX_URL == "https://sandbox.belvo.com"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUDAL_BELVO_BASE_URL", SANDBOX_URL)
    monkeypatch.setenv("CAUDAL_BELVO_SECRET_ID", "env-id")
    monkeypatch.setenv("CAUDAL_BELVO_SECRET_PASSWORD", "env-password")
    with registry.get("belvo.br") as conn:
        assert isinstance(conn.settings, BelvoSettings)
        assert conn.settings.base_url == SANDBOX_URL
        assert conn.settings.secret_id.get_secret_value() == "env-id"


def test_keyword_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUDAL_BELVO_SECRET_ID", "env-id")
    monkeypatch.setenv("CAUDAL_BELVO_SECRET_PASSWORD", "env-password")
    with registry.get("belvo.br", secret_id="kw-id") as conn:
        assert isinstance(conn.settings, BelvoSettings)
        assert conn.settings.secret_id.get_secret_value() == "kw-id"


def test_an_empty_secret_is_refused_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CAUDAL_BELVO_SECRET_ID", "CAUDAL_BELVO_SECRET_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        registry.get("belvo.br", secret_id="", secret_password="x-secret-pw")
    assert "CAUDAL_BELVO_SECRET_ID" in str(caught.value)
    assert "x-secret-pw" not in str(caught.value)


@pytest.mark.parametrize("given", [{}, {"secret_id": "only-id"}])
def test_missing_credentials_wait_for_the_first_request(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str]
) -> None:
    """Mapping a stored body needs no credentials; a request without them names the variables."""
    for var in ("CAUDAL_BELVO_SECRET_ID", "CAUDAL_BELVO_SECRET_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    conn = registry.get("belvo.br", **given)
    parsed = conn.parse("balance", "[" + DOC_BALANCE + "]")
    assert [str(b.amount.amount) for b in parsed] == ["1000.02", "1000.02", "1000.02"]
    for attempt in (lambda: conn.balance(link=DOC_LINK), lambda: conn.settings):
        with pytest.raises(ConfigurationError) as caught:
            attempt()
        assert "CAUDAL_BELVO_SECRET_PASSWORD" in str(caught.value)
        assert ("CAUDAL_BELVO_SECRET_ID" in str(caught.value)) == (not given)
        assert "only-id" not in str(caught.value)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="api_key"):
        registry.get("belvo.br", api_key="x", **CREDENTIALS)


def test_basic_auth_header_carries_the_secret_key() -> None:
    with BelvoBrConnector(**CREDENTIALS) as conn:
        auth = conn.http_auth()
        request = next(auth.sync_auth_flow(httpx.Request("POST", "https://api.belvo.com/x")))
    expected = base64.b64encode(b"unit-id:unit-password-Zq9").decode()
    assert request.headers["authorization"] == f"Basic {expected}"


def test_secrets_never_in_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with BelvoBrConnector(**CREDENTIALS) as conn:
        shown = (
            repr(conn) + repr(conn.settings) + str(conn.settings) + repr(conn.settings.model_dump())
        )
    for secret in CREDENTIALS.values():
        assert secret not in shown
        assert secret not in caplog.text


def test_settings_are_frozen() -> None:
    settings = BelvoSettings(**CREDENTIALS)
    with pytest.raises(ValueError, match="frozen"):
        settings.base_url = "http://evil.example"  # type: ignore[misc]
