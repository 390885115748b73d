"""The 428 token_required challenge: what it carries, its JSON round trip, how it resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given

from caudal import (
    Challenge,
    ChallengeExpired,
    ChallengeRequired,
    ConfigurationError,
    Connector,
    Reply,
    Request,
)
from caudal.testing.strategies import json_text
from caudal_belvo import BelvoBrConnector, errors

from .examples import CREDENTIALS, DOC_LINK, DOC_TOKEN_REQUIRED, call
from .strategies import token_required_bodies

NOW = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)


def _challenge(conn: Connector, body: str, **params: Any) -> ChallengeRequired:
    reply = Reply(428, body.encode())
    with pytest.raises(ChallengeRequired) as caught:
        conn.operation("balance").read(reply, call(**params))
    return caught.value


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(errors, "now", lambda: NOW)
    return NOW


def test_documented_example_becomes_a_full_challenge(
    offline: Connector, frozen_clock: datetime
) -> None:
    error = _challenge(offline, DOC_TOKEN_REQUIRED, link=DOC_LINK, save_data=False)
    assert error.challenge == Challenge(
        connector="belvo.br",
        capability="balance",
        params={"link": DOC_LINK, "save_data": False},
        session="2675b703b9d4451f8d4861a3eee54449",
        expires_at=frozen_clock + timedelta(seconds=9600),
        link="30cb4806-6e00-48a4-91c9-ca55968576c8",
        method="numeric",
        instructions="Use this code to generate the token",
        value="12345",
        expects_user_input=True,
        request_id="9e7b283c6efa449c9c028a16b5c249fb",
    )
    assert error.provider_message == "A MFA token is required by the institution to login"


def test_deadline_is_absolute_and_aware(offline: Connector) -> None:
    before = datetime.now(UTC)
    expires = _challenge(offline, DOC_TOKEN_REQUIRED).challenge.expires_at
    after = datetime.now(UTC)
    assert expires.utcoffset() == timedelta(0)
    assert before + timedelta(seconds=9600) <= expires <= after + timedelta(seconds=9600)


def test_link_falls_back_to_the_call_and_user_input_to_true(offline: Connector) -> None:
    body = '[{"code": "token_required", "session": "s1", "expiry": 60}]'
    challenge = _challenge(offline, body, link=DOC_LINK).challenge
    assert challenge.link == DOC_LINK
    assert challenge.expects_user_input is True
    assert (challenge.method, challenge.value, challenge.instructions) == (None, None, None)


def test_qr_challenge_without_user_input(offline: Connector) -> None:
    body = DOC_TOKEN_REQUIRED.replace('"numeric"', '"qr"').replace(
        '"expects_user_input": true', '"expects_user_input": false'
    )
    challenge = _challenge(offline, body).challenge
    assert (challenge.method, challenge.expects_user_input) == ("qr", False)


def test_documented_challenge_survives_json(offline: Connector) -> None:
    challenge = _challenge(offline, DOC_TOKEN_REQUIRED, link=DOC_LINK, account_id="acc-1").challenge
    assert Challenge.model_validate_json(challenge.model_dump_json()) == challenge


@given(token_required_bodies())
def test_every_challenge_survives_json(body: list[dict[str, Any]]) -> None:
    with BelvoBrConnector(**CREDENTIALS) as conn:
        challenge = _challenge(conn, json_text(body), link=DOC_LINK, save_data=True).challenge
    again = Challenge.model_validate_json(challenge.model_dump_json())
    assert again == challenge
    assert again.session == body[0]["session"]
    assert again.params == {"link": DOC_LINK, "save_data": True}


def test_resume_request_is_the_documented_patch(offline: Connector) -> None:
    challenge = _challenge(offline, DOC_TOKEN_REQUIRED, link=DOC_LINK).challenge
    request = offline.resume_request(challenge, "654321")
    assert request == Request(
        "PATCH",
        "/api/br/balances/",
        json={
            "session": "2675b703b9d4451f8d4861a3eee54449",
            "token": "654321",
            "link": "30cb4806-6e00-48a4-91c9-ca55968576c8",
        },
    )


def test_balance_request_sends_only_what_was_given(offline: Connector) -> None:
    _, _, request = offline.prepare("balance", {"link": DOC_LINK})
    assert request == Request("POST", "/api/br/balances/", json={"link": DOC_LINK})
    _, _, request = offline.prepare(
        "balance", {"link": DOC_LINK, "account_id": "a", "save_data": False}
    )
    assert request.json == {"link": DOC_LINK, "account_id": "a", "save_data": False}


def test_callback_url_is_refused_belvo_has_no_callbacks(offline: Connector) -> None:
    with pytest.raises(ConfigurationError, match="callback"):
        offline.balance(link=DOC_LINK, callback_url="https://host.example/cb")


@pytest.mark.parametrize("params", [{}, {"link": ""}, {"link": DOC_LINK, "acount_id": "typo"}])
def test_bad_call_parameters_are_refused_before_io(
    offline: Connector, params: dict[str, Any]
) -> None:
    with pytest.raises(
        ConfigurationError, match="accepted parameters: link, account_id, save_data"
    ):
        offline.balance(**params)


def test_expired_challenge_is_refused_before_any_request(offline: Connector) -> None:
    challenge = _challenge(offline, DOC_TOKEN_REQUIRED, link=DOC_LINK).challenge
    stale = challenge.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    # `offline` points at a closed port: any request would be a TransportError instead.
    with pytest.raises(ChallengeExpired):
        offline.resume(stale, token="123456")


def test_challenge_of_another_connector_is_refused(offline: Connector) -> None:
    challenge = _challenge(offline, DOC_TOKEN_REQUIRED, link=DOC_LINK).challenge
    foreign = challenge.model_copy(update={"connector": "afc.cl"})
    with pytest.raises(ConfigurationError, match=r"afc\.cl"):
        offline.resume(foreign, token="123456")


def test_challenge_without_any_link_cannot_resume(offline: Connector) -> None:
    challenge = Challenge(
        connector="belvo.br",
        capability="balance",
        session="s",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    with pytest.raises(ConfigurationError, match="link"):
        offline.resume_request(challenge, "1")
