"""Requests, parameters, settings and secrets: what goes to Khipu, and what never shows."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caudal import ConfigurationError, Connector, registry
from caudal_khipu.auth import ApiKeyAuth, BearerAuth, ClientCredentialsAuth
from caudal_khipu.settings import KhipuSettings

from . import examples

OFFLINE = "http://127.0.0.1:9"
PASSWORD = "s3cr3t-pw"


def _body(conn: Connector, capability: str, callback_url: str | None = None, **params: Any) -> Any:
    _, _, request = conn.prepare(capability, params, callback_url=callback_url)
    assert request.method == "POST"
    return request.path, request.json


def test_afc_balance_request(afc: Connector) -> None:
    path, body = _body(afc, "balance", credential=examples.login("ana"))
    assert path == "/v1/cl/services/afc.cl/balance"
    assert body == {"RequestData": {"AccountCredential": {"Username": "ana", "Password": PASSWORD}}}


def test_afc_contributions_request_with_period(afc: Connector) -> None:
    path, body = _body(afc, "contributions", credential=examples.login("ana"), period=2024)
    assert path == "/v1/cl/services/afc.cl/last-credited-contribution"
    assert body["RequestData"]["Period"] == "2024"
    _, latest = _body(afc, "contributions", credential=examples.login("ana"))
    assert "Period" not in latest["RequestData"]


def test_bank_balance_request(security: Connector) -> None:
    path, body = _body(
        security, "balance", credential="link-token-1", account_number="0011887755", currency="USD"
    )
    assert path == "/v1/cl/banking/business/bancosecurity.cl/current/balances"
    assert body == {
        "RequestData": {
            "AccountCredential": "link-token-1",
            "AccountNumber": "0011887755",
            "Currency": "USD",
        }
    }


def test_bank_loans_request_async(security: Connector) -> None:
    path, body = _body(
        security, "loans", callback_url="https://host.example/k/1", credential=examples.login("a")
    )
    assert path == "/v1/cl/banking/personal/bancosecurity.cl/products/loans"
    assert body["CallbackUrl"] == "https://host.example/k/1"


@settings(max_examples=50)
@given(number=st.from_regex(r"0{0,4}[0-9]{1,14}", fullmatch=True))
def test_account_numbers_travel_exactly(number: str) -> None:
    with registry.get("bancosecurity.cl", base_url=OFFLINE, jwt="t") as conn:
        _, body = _body(conn, "balance", account_number=number)
    assert body["RequestData"]["AccountNumber"] == number


@pytest.mark.parametrize(
    ("capability", "params", "problem"),
    [
        ("balance", {"account_number": 11887755}, "account_number"),
        ("balance", {"account_number": ""}, "account_number"),
        ("balance", {}, "account_number"),
        ("balance", {"account_number": "1", "currency": "PESOS"}, "currency"),
        ("balance", {"account_number": "1", "acount": "typo"}, "acount"),
        ("loans", {"credential": {"username": "a", "password": "b"}}, "credential"),
        ("loans", {"credential": ""}, "credential"),
    ],
)
def test_bad_parameters_are_configuration_errors(
    security: Connector, capability: str, params: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        security.prepare(capability, {"credential": "tok", **params})
    assert problem in str(caught.value)


def test_api_key_auth_needs_the_end_users_credential(afc: Connector) -> None:
    with pytest.raises(ConfigurationError, match="credential= is required"):
        afc.prepare("balance", {})


def test_bearer_auth_makes_the_credential_optional() -> None:
    with registry.get("afc.cl", base_url=OFFLINE, jwt="a.b.c") as conn:
        _, body = _body(conn, "balance")
    assert body == {"RequestData": {}}


def test_no_auth_configured_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("API_KEY", "JWT", "CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"CAUDAL_KHIPU_{var}", raising=False)
    with registry.get("afc.cl", base_url=OFFLINE) as conn:
        # parse needs no auth (a webhook host app may only parse)...
        assert len(conn.parse("balance", examples.AFC_BALANCE)) == 1
        # ...but a call does.
        with pytest.raises(ConfigurationError, match="no Khipu authentication configured"):
            conn.prepare("balance", {"credential": examples.login("ana")})


def test_client_id_without_secret_is_refused_at_once() -> None:
    with pytest.raises(ConfigurationError, match="client_secret"):
        registry.get("afc.cl", base_url=OFFLINE, client_id="me")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUDAL_KHIPU_BASE_URL", "https://khipu.example")
    monkeypatch.setenv("CAUDAL_KHIPU_CLIENT_ID", "cid")
    monkeypatch.setenv("CAUDAL_KHIPU_CLIENT_SECRET", "csecret")
    found = KhipuSettings()
    assert found.base_url == "https://khipu.example"
    assert found.auth_mode() == "client_credentials"
    assert found.resolved_oauth_url == "https://khipu.example/oauth2/token"
    assert (
        KhipuSettings(oauth_url="https://id.example/t").resolved_oauth_url == "https://id.example/t"
    )


def test_settings_default_to_khipu_and_refuse_unknown_fields() -> None:
    assert KhipuSettings(api_key="k").base_url == "https://api.khipu.com"
    with pytest.raises(ConfigurationError, match="api_kee"):
        registry.get("afc.cl", api_kee="typo")


@pytest.mark.parametrize(
    ("auth", "kind"),
    [
        ({"jwt": "j", "api_key": "k"}, BearerAuth),
        ({"client_id": "i", "client_secret": "s", "api_key": "k"}, ClientCredentialsAuth),
        ({"api_key": "k"}, ApiKeyAuth),
    ],
)
def test_auth_preference_bearer_first(auth: dict[str, str], kind: type) -> None:
    with registry.get("afc.cl", base_url=OFFLINE, **auth) as conn:
        assert isinstance(conn.http_auth(), kind)


def test_secrets_never_in_reprs_or_messages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = {"api_key": "KEY-123", "jwt": "JWT-456", "client_secret": "CS-789"}
    with registry.get("afc.cl", base_url=OFFLINE, client_id="cid", **secrets) as conn:
        operation, call, request = conn.prepare(
            "balance", {"credential": examples.login("ana")}, callback_url="https://h/cb"
        )
        shown = " ".join(
            repr(thing)
            for thing in (conn, conn.settings, call, request, conn.http_auth(), operation)
        )
        shown += str(conn.settings)
        with pytest.raises(ConfigurationError) as caught:
            registry.get("afc.cl", base_url=OFFLINE, api_key="KEY-123", deadline=-1)
    shown += str(caught.value) + caplog.text
    for secret in [*secrets.values(), PASSWORD]:
        assert secret not in shown
