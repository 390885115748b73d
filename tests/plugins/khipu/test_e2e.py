"""afc.cl and bancosecurity.cl against the emulator over real HTTP, sync and async."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from caudal import (
    AuthenticationError,
    Balance,
    Connector,
    Contribution,
    Loan,
    MappingError,
    Pending,
    ProviderError,
    Result,
    RetryAdvice,
    TransportError,
    registry,
    webhooks,
)
from caudal.sandbox import Sandbox
from caudal_khipu.emulator import (
    ERROR_TYPES,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_JWT,
)

from . import examples
from .conftest import Inbox, Receiver
from .examples import login, unique

RECORDS = {"balance": Balance, "contributions": Contribution, "loans": Loan}
FAST = {"backoff": 0.01, "max_backoff": 0.05}


def connect(sandbox: Sandbox, name: str, **overrides: Any) -> Connector:
    """A connector from the process-wide registry, aimed at the sandbox."""
    return registry.get(name, **{**sandbox.settings(name), **FAST, **overrides})


def seen(sandbox: Sandbox, who: str) -> dict[str, int]:
    """Requests the emulator received from `who`, per endpoint path."""
    counts: dict[str, dict[str, int]] = httpx.get(f"{sandbox.url}/khipu/_emulator/requests").json()
    return counts.get(who, {})


@pytest.fixture
def afc(sandbox: Sandbox) -> Iterator[Connector]:
    with connect(sandbox, "afc.cl") as conn:
        yield conn


# -- success (the sync/async round trip of every capability is the conformance suite's) --------


@pytest.mark.parametrize(("name", "capability"), examples.CAPABILITIES)
def test_every_capability_sync(sandbox: Sandbox, name: str, capability: str) -> None:
    params = sandbox.call_params(name, capability)
    with connect(sandbox, name) as conn:
        result = conn.call(capability, params, keep_raw=True)
        again = conn.call(capability, params)
    assert isinstance(result, Result) and isinstance(again, Result)
    assert (result.connector, result.capability) == (name, capability)
    assert all(isinstance(item, RECORDS[capability]) for item in result)
    assert result.items == again.items, "seeded data: the same user gets the same data"
    assert result.operation_id and result.operation_id != again.operation_id
    assert result.raw is not None and result.operation_id in result.raw


def test_demo_user_has_records(sandbox: Sandbox) -> None:
    with connect(sandbox, "afc.cl") as conn:
        (balance,) = conn.balance(credential=examples.login("demo"))
    assert balance.amount.currency == "CLP" and balance.units is not None
    with connect(sandbox, "bancosecurity.cl") as conn:
        balances = conn.balance(credential=login("demo"), account_number="11887755")
    assert balances.items and all(b.account_id for b in balances)
    assert all(isinstance(b.as_of, datetime) and b.as_of.utcoffset() for b in balances)


def test_empty_arrays_are_an_empty_result(afc: Connector) -> None:
    result = afc.contributions(credential=login(unique("empty")))
    assert result.items == ()
    assert not result.notes


def test_data_null_is_a_no_data_provider_error_not_an_empty_result(afc: Connector) -> None:
    # "no contributions" and "Khipu found nothing" must not read alike: Data null is what E3xx
    # codes say, a ProviderError of category no_data, never retried.
    with pytest.raises(ProviderError) as caught:
        afc.contributions(credential=login(unique("nodata")))
    error = caught.value
    assert (error.category, error.retry, error.attempts) == ("no_data", RetryAdvice.NEVER, 1)
    assert error.request_id  # the operation id


def test_notes(afc: Connector) -> None:
    assert afc.balance(credential=login(unique("notes"))).notes


def test_invalid_ruts_are_kept_and_flagged(afc: Connector) -> None:
    (balance,) = afc.balance(credential=login(unique("invalid-rut")))
    assert balance.breakdown or balance.amount.amount == 0
    assert all(s.employer.tax_id == "11222333-4" for s in balance.breakdown)
    assert not any(s.employer.tax_id_valid for s in balance.breakdown)


def test_account_link_token_as_credential(sandbox: Sandbox) -> None:
    with connect(sandbox, "bancosecurity.cl") as conn:
        assert isinstance(conn.loans(credential="link-token-42"), Result)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "advice", "attempts"),
    [
        ("RETRY_IMMEDIATELY", RetryAdvice.NOW, 3),
        ("WAIT_4_HOURS_BEFORE_RETRY", RetryAdvice.LATER, 1),
        ("RETRY_AFTER_NOTIFICATION", RetryAdvice.AFTER_NOTIFICATION, 1),
        ("DO_NOT_RETRY", RetryAdvice.NEVER, 1),
        ("SOME_NEW_TYPE", RetryAdvice.NEVER, 1),
    ],
)
def test_error_envelope_per_type(
    afc: Connector, sandbox: Sandbox, kind: str, advice: RetryAdvice, attempts: int
) -> None:
    who = unique(f"error-E201-{kind}")
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        afc.balance(credential=login(who))
    error = caught.value
    assert (error.code, error.provider_type, error.retry) == ("E201", kind, advice)
    assert error.category == "institution_unavailable"
    assert error.attempts == attempts
    assert seen(sandbox, who) == {"/v1/cl/services/afc.cl/balance": attempts}
    assert time.monotonic() - started < 5, "four hours are never slept inside a call"


def test_every_documented_type_is_covered() -> None:
    assert set(ERROR_TYPES) == {
        "RETRY_IMMEDIATELY",
        "DO_NOT_RETRY",
        "WAIT_4_HOURS_BEFORE_RETRY",
        "RETRY_AFTER_NOTIFICATION",
    }


async def test_error_envelope_async(sandbox: Sandbox) -> None:
    async with connect(sandbox, "bancosecurity.cl") as conn:
        with pytest.raises(ProviderError) as caught:
            await conn.aloans(credential=login(unique("error-E101")))
    assert (caught.value.category, caught.value.retry) == (
        "credentials",
        RetryAdvice.AFTER_NOTIFICATION,
    )


def test_a000_is_authentication(afc: Connector) -> None:
    with pytest.raises(AuthenticationError) as caught:
        afc.balance(credential=login(unique("error-A000")))
    assert caught.value.code == "A000"


def test_retry_immediately_recovers_within_the_bound(afc: Connector, sandbox: Sandbox) -> None:
    who = unique("flaky-2")
    assert isinstance(afc.balance(credential=login(who)), Result)
    assert seen(sandbox, who) == {"/v1/cl/services/afc.cl/balance": 3}


def test_retry_immediately_gives_up_at_max_attempts(sandbox: Sandbox) -> None:
    who = unique("flaky-9")
    with connect(sandbox, "afc.cl", max_attempts=4) as conn, pytest.raises(ProviderError) as caught:
        conn.balance(credential=login(who))
    assert caught.value.code == "I001"
    assert seen(sandbox, who) == {"/v1/cl/services/afc.cl/balance": 4}


def test_bad_api_key_is_401(sandbox: Sandbox) -> None:
    with (
        connect(sandbox, "afc.cl", api_key="wrong") as conn,
        pytest.raises(AuthenticationError) as caught,
    ):
        conn.balance(credential=login("demo"))
    assert (caught.value.status, caught.value.retry) == (401, RetryAdvice.NEVER)


async def test_bad_bearer_is_401_async(sandbox: Sandbox) -> None:
    async with connect(sandbox, "bancosecurity.cl", api_key=None, jwt="forged") as conn:
        with pytest.raises(AuthenticationError):
            await conn.aloans()


def test_html_5xx_is_retried_then_reported(afc: Connector, sandbox: Sandbox) -> None:
    who = unique("http-502")
    with pytest.raises(TransportError) as caught:
        afc.balance(credential=login(who))
    assert (caught.value.status, caught.value.retry) == (502, RetryAdvice.NOW)
    assert seen(sandbox, who) == {"/v1/cl/services/afc.cl/balance": 3}


def test_retry_after_is_honoured(sandbox: Sandbox) -> None:
    started = time.monotonic()
    with (
        connect(sandbox, "afc.cl", max_attempts=2) as conn,
        pytest.raises(TransportError) as caught,
    ):
        conn.balance(credential=login(unique("http-503")))
    assert caught.value.retry_after == timedelta(seconds=1)
    assert time.monotonic() - started >= 1.0


def test_broken_body_is_a_mapping_error(afc: Connector) -> None:
    with pytest.raises(MappingError, match="not valid JSON"):
        afc.balance(credential=login(unique("broken")))


def test_bad_period_is_e4xx(afc: Connector) -> None:
    with pytest.raises(ProviderError) as caught:
        afc.contributions(credential=login("demo"), period="last year")
    assert (caught.value.code, caught.value.category) == ("E401", "bad_request")


def test_slow_answer_times_out(sandbox: Sandbox) -> None:
    conn = connect(sandbox, "afc.cl", read_timeout=0.2, max_attempts=1)
    with conn, pytest.raises(TransportError, match="timed out"):
        conn.balance(credential=login(unique("slow-1")))


def test_slow_answer_within_the_timeout(afc: Connector) -> None:
    assert isinstance(afc.balance(credential=login(unique("slow-0.3"))), Result)


# -- OAuth2 and bearer tokens ----------------------------------------------------------------


def test_client_credentials_token_is_fetched_once(sandbox: Sandbox) -> None:
    client_id = SANDBOX_CLIENT_ID
    before = seen(sandbox, "oauth2/token").get(client_id, 0)
    oauth = {"api_key": None, "client_id": client_id, "client_secret": SANDBOX_CLIENT_SECRET}
    with connect(sandbox, "bancosecurity.cl", **oauth) as conn:
        conn.loans()
        conn.balance(account_number="11887755")
    assert seen(sandbox, "oauth2/token")[client_id] == before + 1


async def test_client_credentials_async(sandbox: Sandbox) -> None:
    oauth = {
        "api_key": None,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    async with connect(sandbox, "afc.cl", **oauth) as conn:
        result = await conn.acontributions(period="2024")
    assert isinstance(result, Result)


def test_short_lived_tokens_are_renewed(sandbox: Sandbox) -> None:
    oauth = {
        "api_key": None,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
        "oauth_scope": "expires-1",
        "oauth_leeway": 0,
    }
    with connect(sandbox, "afc.cl", **oauth) as conn:
        conn.balance()
        time.sleep(1.1)
        assert isinstance(conn.balance(), Result)


def test_wrong_client_secret(sandbox: Sandbox) -> None:
    oauth = {"api_key": None, "client_id": SANDBOX_CLIENT_ID, "client_secret": "nope"}
    with connect(sandbox, "afc.cl", **oauth) as conn, pytest.raises(AuthenticationError) as caught:
        conn.balance()
    assert "invalid_client" in str(caught.value)


def test_a000_with_client_credentials_fetches_a_fresh_token_per_attempt(sandbox: Sandbox) -> None:
    before = seen(sandbox, "oauth2/token").get(SANDBOX_CLIENT_ID, 0)
    oauth = {
        "api_key": None,
        "client_id": SANDBOX_CLIENT_ID,
        "client_secret": SANDBOX_CLIENT_SECRET,
    }
    with connect(sandbox, "afc.cl", **oauth) as conn, pytest.raises(AuthenticationError) as caught:
        conn.balance(credential=login(unique("error-A000")))
    assert caught.value.attempts == 3
    assert seen(sandbox, "oauth2/token")[SANDBOX_CLIENT_ID] == before + 3


def test_fixed_jwt_without_credential(sandbox: Sandbox) -> None:
    with connect(sandbox, "afc.cl", api_key=None, jwt=SANDBOX_JWT) as conn:
        assert isinstance(conn.balance(), Result)


# -- asynchronous requests: 202 then a callback ------------------------------------------------


def _hook(sandbox: Sandbox) -> tuple[str, str]:
    key = uuid.uuid4().hex  # unguessable per request: Khipu's callbacks are not signed
    return key, f"{sandbox.url}/hooks/{key}"


@pytest.mark.parametrize(("name", "capability"), examples.CAPABILITIES)
def test_callback_delivers_what_parse_maps(
    sandbox: Sandbox, receiver: Receiver, name: str, capability: str
) -> None:
    key, url = _hook(sandbox)
    params = sandbox.call_params(name, capability)
    with connect(sandbox, name) as conn:
        pending = conn.call(capability, params, callback_url=url)
        assert isinstance(pending, Pending)
        assert pending.deadline is not None and pending.deadline > datetime.now(UTC)
        assert pending.notes
        result = conn.parse(capability, receiver.wait(key))
        direct = conn.call(capability, params)
    assert isinstance(direct, Result)
    assert result.operation_id == pending.operation_id
    assert result.items == direct.items


async def test_callback_async(sandbox: Sandbox, receiver: Receiver) -> None:
    key, url = _hook(sandbox)
    async with connect(sandbox, "afc.cl") as conn:
        pending = await conn.abalance(credential=login("demo"), callback_url=url)
        assert isinstance(pending, Pending)
        body = receiver.wait(key)
        assert conn.parse("balance", body).operation_id == pending.operation_id


def test_callback_carrying_an_error(sandbox: Sandbox, receiver: Receiver) -> None:
    key, url = _hook(sandbox)
    with connect(sandbox, "bancosecurity.cl") as conn:
        pending = conn.loans(credential=login(unique("error-E201")), callback_url=url)
        with pytest.raises(ProviderError) as caught:
            conn.parse("loans", receiver.wait(key))
    assert caught.value.code == "E201"
    assert caught.value.request_id == pending.operation_id


def test_webhook_app_delivers_once(sandbox: Sandbox, hooks: webhooks.App, inbox: Inbox) -> None:
    with connect(sandbox, "bancosecurity.cl") as conn:
        pending = hooks.request(conn, "balance", credential=login("demo"), account_number="42")
        (delivery,) = inbox.wait(pending.operation_id)
        direct = conn.balance(credential=login("demo"), account_number="42")
    assert delivery.error is None and delivery.result is not None
    assert delivery.result.operation_id == pending.operation_id
    assert delivery.result.items == direct.items


async def test_webhook_app_delivers_a_khipu_error(
    sandbox: Sandbox, hooks: webhooks.App, inbox: Inbox
) -> None:
    async with connect(sandbox, "afc.cl") as conn:
        pending = await hooks.arequest(
            conn, "contributions", credential=login(unique("error-E301"))
        )
    (delivery,) = inbox.wait(pending.operation_id)
    assert isinstance(delivery.error, ProviderError)
    assert (delivery.error.code, delivery.error.category) == ("E301", "no_data")
