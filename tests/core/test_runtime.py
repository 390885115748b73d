"""The runtime against a real loopback server: sync and async, retries, limits, typed errors."""

import logging
from decimal import Decimal

import pytest

from caudal import (
    AuthenticationError,
    ConfigurationError,
    MappingError,
    ProviderError,
    Registry,
    TransportError,
    UnsupportedCapability,
)
from caudal.sandbox import Sandbox

from .toy import TOY_KEY, ToyConnector, hits


def test_sync_call_maps_exact_amounts(toy: ToyConnector) -> None:
    result = toy.balance()
    assert [b.amount.amount for b in result] == [
        Decimal("1000.1234567890123456789"),
        Decimal("1.10"),
    ]
    assert [b.account_id for b in result] == ["007", "008"]
    assert result.items[0].as_of.utcoffset().total_seconds() == -3 * 3600  # type: ignore[union-attr]
    assert result.raw is None


async def test_async_call_gives_the_same_records(toy: ToyConnector) -> None:
    assert (await toy.abalance()).items == toy.balance().items


def test_keep_raw_keeps_the_body(toy: ToyConnector) -> None:
    result = toy.balance(keep_raw=True)
    assert result.raw is not None and "1000.1234567890123456789" in result.raw


def test_retries_a_transient_failure_until_it_passes(toy: ToyConnector) -> None:
    assert len(toy.balance(scenario="flaky")) == 2
    assert hits["flaky"] == 3


def test_gives_up_after_max_attempts_and_says_how_often(toy: ToyConnector) -> None:
    with pytest.raises(ProviderError) as info:
        toy.balance(scenario="down")
    assert hits["down"] == 3
    assert info.value.status == 503
    assert info.value.attempts == 3


def test_retry_after_is_honoured(toy: ToyConnector) -> None:
    import time

    started = time.monotonic()
    with pytest.raises(ProviderError):
        toy.balance(scenario="throttled")
    assert hits["throttled"] == 3
    assert time.monotonic() - started >= 2.0  # two waits of Retry-After: 1


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(toy: ToyConnector) -> None:
    with pytest.raises(ProviderError) as info:
        toy.balance(scenario="throttled-long")
    assert hits["throttled-long"] == 1
    assert info.value.retry_after is not None and info.value.retry_after.total_seconds() == 3600


async def test_async_retries_the_same_way(toy: ToyConnector) -> None:
    assert len(await toy.abalance(scenario="flaky")) == 2
    assert hits["flaky"] == 3


def test_client_errors_are_not_retried(toy: ToyConnector) -> None:
    with pytest.raises(ProviderError) as info:
        toy.balance(scenario="no-such-scenario")
    assert hits["no-such-scenario"] == 1
    assert info.value.status == 400


def test_bad_key_is_an_authentication_error_without_the_key(
    toy_sandbox: Sandbox, toy_registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conn = toy_sandbox.connect("toy", registry=toy_registry, api_key="wrong-secret-value")
    with pytest.raises(AuthenticationError) as info:
        conn.balance()
    for text in (str(info.value), repr(conn), repr(conn.settings), caplog.text):
        assert "wrong-secret-value" not in text
        assert TOY_KEY not in text


def test_timeout_is_a_transport_error(toy_sandbox: Sandbox, toy_registry: Registry) -> None:
    conn = toy_sandbox.connect("toy", registry=toy_registry, read_timeout=0.2, max_attempts=1)
    with pytest.raises(TransportError, match="timed out"):
        conn.balance(scenario="slow")


def test_connection_refused_is_retried_then_a_transport_error(toy_registry: Registry) -> None:
    conn = toy_registry.get("toy", base_url="http://127.0.0.1:9", backoff=0.01)
    with pytest.raises(TransportError, match="could not connect") as info:
        conn.balance()
    assert info.value.attempts == 3


def test_response_size_limit(toy_sandbox: Sandbox, toy_registry: Registry) -> None:
    conn = toy_sandbox.connect("toy", registry=toy_registry, max_response_bytes=1024)
    with pytest.raises(TransportError, match="1024-byte limit"):
        conn.balance(scenario="huge")
    assert hits["huge"] == 1


def test_non_json_body_is_a_mapping_error(toy: ToyConnector) -> None:
    with pytest.raises(MappingError, match="not valid JSON") as info:
        toy.balance(scenario="html")
    assert info.value.path == "$"
    assert (info.value.connector, info.value.capability) == ("toy", "balance")


def test_unknown_currency_names_its_json_path(toy: ToyConnector) -> None:
    with pytest.raises(MappingError) as info:
        toy.balance(scenario="bad-currency")
    assert info.value.path == "$[1].currency"
    assert "XYZ" in info.value.reason


def test_canonical_rejection_is_a_mapping_error_naming_the_record(toy: ToyConnector) -> None:
    with pytest.raises(MappingError) as info:
        toy.balance(scenario="bad-date")
    assert info.value.path == "$[0]"
    assert "as_of" in info.value.reason


def test_unknown_parameter_is_a_configuration_error(toy: ToyConnector) -> None:
    with pytest.raises(ConfigurationError, match="accepted parameters: scenario"):
        toy.balance(acount="typo")


def test_missing_capability_names_the_ones_offered(toy: ToyConnector) -> None:
    with pytest.raises(UnsupportedCapability, match="offers: balance"):
        toy.loans()


def test_callback_url_refused_when_the_provider_cannot_deliver(toy: ToyConnector) -> None:
    with pytest.raises(ConfigurationError, match="callback"):
        toy.balance(callback_url="https://example.invalid/hook")


def test_invalid_settings_name_the_field_not_the_value(toy_registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="max_attempts") as info:
        toy_registry.get("toy", max_attempts="many-secret")
    assert "many-secret" not in str(info.value)


def test_settings_come_from_the_environment(
    toy_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAUDAL_TOY_BASE_URL", "http://127.0.0.1:1234")
    monkeypatch.setenv("CAUDAL_TOY_API_KEY", "from-env")
    conn = toy_registry.get("toy")
    assert conn.settings.base_url == "http://127.0.0.1:1234"
    assert "from-env" not in repr(conn.settings)


def test_parse_maps_without_io(toy_registry: Registry) -> None:
    conn = toy_registry.get("toy")
    body = '[{"account": "0001", "amount": 5.000, "currency": "USD", "at": "2024-01-01T00:00:00Z"}]'
    result = conn.parse("balance", body)
    assert result.items[0].amount.amount.as_tuple().exponent == -3
    assert result.items[0].account_id == "0001"


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("http://127.0.0.1:9/belvo", "/api/br/balances/"),
        ("http://127.0.0.1:9/belvo/", "api/br/balances/"),
        ("https://api.example.cl", "/v1/cl/services/afc.cl/balance"),
        ("https://api.example.cl/x", "/a%20b/ñ?q=1"),
    ],
)
def test_cached_urls_are_httpxs_own_merge(base: str, path: str) -> None:
    import httpx

    from caudal.runtime._http import Urls

    urls = Urls()
    with httpx.Client(base_url=base) as client:
        expected = client.build_request("POST", path).url
        assert urls.of(client, path) == expected
        assert urls.of(client, path) == expected  # from the table the second time


def test_the_url_table_is_bounded() -> None:
    import httpx

    from caudal.runtime._http import Urls

    urls = Urls()
    with httpx.Client(base_url="http://127.0.0.1:9") as client:
        for i in range(Urls.LIMIT + 50):
            assert str(urls.of(client, f"/items/{i}")) == f"http://127.0.0.1:9/items/{i}"
    assert len(urls._known) == Urls.LIMIT
