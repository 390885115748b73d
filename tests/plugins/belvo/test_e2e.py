"""belvo.br against the emulator over real HTTP: success, every error, retries, the challenge."""

from __future__ import annotations

import base64
import logging
from decimal import Decimal
from typing import Any

import pytest

from caudal import (
    AuthenticationError,
    BalanceKind,
    Challenge,
    ChallengeExpired,
    ChallengeRequired,
    Connector,
    ProviderError,
    RetryAdvice,
    TransportError,
    registry,
)
from caudal.sandbox import Sandbox
from caudal_belvo.emulator import EXAMPLE_LINK, MFA_TOKEN, seeded_accounts

from .examples import requests_seen, unique


def test_success_persisted_is_201_with_three_figures_per_account(
    conn: Connector, sandbox: Sandbox
) -> None:
    link = unique("account")
    result = conn.balance(link=link, keep_raw=True)
    accounts = seeded_accounts(link)
    assert len(result) == 3 * len(accounts)
    for index, raw in enumerate(accounts):
        available, blocked, invested = result.items[3 * index : 3 * index + 3]
        assert (available.kind, blocked.kind, invested.kind) == (
            BalanceKind.AVAILABLE,
            BalanceKind.BLOCKED,
            BalanceKind.INVESTED,
        )
        assert available.amount.amount.as_tuple() == raw.available.as_tuple()
        assert blocked.amount.amount.as_tuple() == raw.blocked.as_tuple()
        assert invested.amount.amount.as_tuple() == raw.automatically_invested.as_tuple()
        assert available.as_of == raw.last_updated_at
        assert available.references["account_internal_identification"] == (
            raw.account_internal_identification
        )
    assert requests_seen(sandbox, link) == {"POST": 1}


def test_save_data_false_answers_200_same_accounts(conn: Connector) -> None:
    persisted = conn.balance(link=EXAMPLE_LINK)
    transient = conn.balance(link=EXAMPLE_LINK, save_data=False)
    assert persisted.items == transient.items


def test_account_id_narrows_to_that_account(conn: Connector) -> None:
    link = unique("narrow")
    wanted = seeded_accounts(link)[-1].account_id
    result = conn.balance(link=link, account_id=wanted)
    assert len(result) == 3
    assert {b.account_id for b in result} == {wanted}


def test_no_accounts_is_an_empty_result(conn: Connector) -> None:
    assert conn.balance(link=unique("empty")).items == ()


def test_emulated_amounts_are_exact_even_with_trailing_zeros(conn: Connector) -> None:
    # Across many seeded links some amounts end in zero; every one must arrive as written.
    seen_trailing_zero = False
    for n in range(12):
        link = f"trailing-{n}"
        figures = [b.amount.amount for b in conn.balance(link=link)]
        raws = [
            d
            for a in seeded_accounts(link)
            for d in (a.available, a.blocked, a.automatically_invested)
        ]
        assert [f.as_tuple() for f in figures] == [r.as_tuple() for r in raws]
        seen_trailing_zero |= any(str(f).endswith("0") and "." in str(f) for f in figures)
    assert seen_trailing_zero


@pytest.mark.parametrize(
    ("case", "kind", "code", "status"),
    [
        ("error-400", ProviderError, "invalid_link", 400),
        ("error-401", AuthenticationError, "authentication_failed", 401),
        ("error-403", ProviderError, "access_to_resource_denied", 403),
        ("error-409", ProviderError, "emulated_409", 409),
    ],
)
def test_final_errors_are_never_retried(
    conn: Connector, sandbox: Sandbox, case: str, kind: type[ProviderError], code: str, status: int
) -> None:
    link = unique(case)
    with pytest.raises(kind) as caught:
        conn.balance(link=link)
    error = caught.value
    assert (error.code, error.status, error.retry) == (code, status, RetryAdvice.NEVER)
    assert error.request_id and len(error.request_id) == 32
    assert requests_seen(sandbox, link) == {"POST": 1}


@pytest.mark.parametrize(
    ("case", "code", "status"),
    [("error-408", "request_timeout", 408), ("error-500", "unexpected_error", 500)],
)
def test_transient_errors_are_retried_then_raised(
    conn: Connector, sandbox: Sandbox, case: str, code: str, status: int
) -> None:
    link = unique(case)
    with pytest.raises(ProviderError) as caught:
        conn.balance(link=link)
    assert (caught.value.code, caught.value.status) == (code, status)
    attempts = conn.settings.max_attempts
    assert getattr(caught.value, "attempts", None) == attempts
    assert requests_seen(sandbox, link) == {"POST": attempts}


def test_a_transient_failure_then_success_returns_the_data(
    conn: Connector, sandbox: Sandbox
) -> None:
    link = unique("flaky-2")
    result = conn.balance(link=link)
    assert len(result) == 3 * len(seeded_accounts(link))
    assert requests_seen(sandbox, link) == {"POST": 3}


def test_html_502_is_a_transport_error_not_a_crash(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("html-502")
    with pytest.raises(TransportError) as caught:
        conn.balance(link=link)
    assert caught.value.status == 502
    assert requests_seen(sandbox, link) == {"POST": conn.settings.max_attempts}


def test_wrong_credentials_are_an_authentication_error(sandbox: Sandbox) -> None:
    settings = {**sandbox.settings("belvo.br"), "secret_password": "not-the-password-7Qx"}
    link = unique("creds")
    with registry.get("belvo.br", **settings) as conn, pytest.raises(AuthenticationError) as caught:
        conn.balance(link=link)
    assert "not-the-password-7Qx" not in str(caught.value)
    assert requests_seen(sandbox, link) == {"POST": 1}


def test_slow_answer_within_the_timeout(conn: Connector) -> None:
    link = unique("slow-0.3")
    assert len(conn.balance(link=link)) == 3 * len(seeded_accounts(link))


def test_slow_answer_past_the_timeout_is_a_transport_error(sandbox: Sandbox) -> None:
    settings = {**sandbox.settings("belvo.br"), "read_timeout": 0.2, "max_attempts": 1}
    with (
        registry.get("belvo.br", **settings) as conn,
        pytest.raises(TransportError, match="timed out"),
    ):
        conn.balance(link=unique("slow-1"))


# -- the multi-factor challenge ----------------------------------------------------------------


def _challenge(conn: Connector, link: str, **params: Any) -> Challenge:
    with pytest.raises(ChallengeRequired) as caught:
        conn.balance(link=link, **params)
    assert caught.value.status == 428
    return caught.value.challenge


def test_challenge_flow_sync(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("mfa")
    challenge = _challenge(conn, link, save_data=False)
    assert (challenge.link, challenge.method, challenge.params) == (
        link,
        "numeric",
        {"link": link, "save_data": False},
    )
    # A web app keeps the challenge between two requests.
    kept = Challenge.model_validate_json(challenge.model_dump_json())
    with pytest.raises(ChallengeRequired) as wrong:
        conn.resume(kept, token="000000")
    again = wrong.value.challenge
    assert again.session != kept.session
    assert again.params == kept.params
    result = conn.resume(again, token=MFA_TOKEN)
    assert len(result) == 3 * len(seeded_accounts(link))
    assert result.connector == "belvo.br" and result.capability == "balance"
    assert requests_seen(sandbox, link) == {"POST": 1, "PATCH": 2}


async def test_challenge_flow_async(sandbox: Sandbox) -> None:
    link = unique("mfa")
    async with sandbox.connect("belvo.br") as conn:
        with pytest.raises(ChallengeRequired) as caught:
            await conn.abalance(link=link)
        kept = Challenge.model_validate_json(caught.value.challenge.model_dump_json())
        with pytest.raises(ChallengeRequired) as wrong:
            await conn.aresume(kept, token="wrong")
        result = await conn.aresume(wrong.value.challenge, token=MFA_TOKEN)
    amounts = [b.amount.amount for b in result]
    assert all(isinstance(a, Decimal) for a in amounts)
    assert len(result) == 3 * len(seeded_accounts(link))
    assert requests_seen(sandbox, link) == {"POST": 1, "PATCH": 2}


def test_a_used_session_cannot_be_replayed(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("mfa")
    challenge = _challenge(conn, link)
    conn.resume(challenge, token=MFA_TOKEN)
    with pytest.raises(ProviderError) as caught:
        conn.resume(challenge, token=MFA_TOKEN)
    assert (caught.value.status, caught.value.code) == (400, "session_expired")


def test_expired_challenge_is_refused_without_a_request(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("expired-mfa")
    challenge = _challenge(conn, link)
    assert challenge.expired()
    with pytest.raises(ChallengeExpired):
        conn.resume(challenge, token=MFA_TOKEN)
    assert requests_seen(sandbox, link) == {"POST": 1}


async def test_expired_challenge_is_refused_without_a_request_async(sandbox: Sandbox) -> None:
    link = unique("expired-mfa")
    async with sandbox.connect("belvo.br") as conn:
        with pytest.raises(ChallengeRequired) as caught:
            await conn.abalance(link=link)
        with pytest.raises(ChallengeExpired):
            await conn.aresume(caught.value.challenge, token=MFA_TOKEN)
    assert requests_seen(sandbox, link) == {"POST": 1}


def test_no_secret_in_logs_of_a_retried_call(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    settings = sandbox.settings("belvo.br")
    basic = base64.b64encode(
        f"{settings['secret_id']}:{settings['secret_password']}".encode()
    ).decode()
    caplog.set_level(logging.DEBUG)
    with (
        registry.get("belvo.br", **settings, backoff=0.01) as conn,
        pytest.raises(ProviderError) as caught,
    ):
        conn.balance(link=unique("error-500"))
    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(conn)
    assert "retrying" in caplog.text
    for secret in (settings["secret_id"], settings["secret_password"], basic):
        assert secret not in shown
