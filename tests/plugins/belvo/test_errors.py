"""Every Belvo error reply becomes the typed error, with Belvo's code, message and request id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from caudal import (
    AuthenticationError,
    CaudalError,
    ChallengeRequired,
    Connector,
    MappingError,
    ProviderError,
    Reply,
    RetryAdvice,
    TransportError,
)

from .examples import CREDENTIALS, DOC_ERRORS, DOC_TOKEN_REQUIRED, call

RID = "9e7b283c6efa449c9c028a16b5c249fb"


def _read(conn: Connector, status: int, body: str | bytes, **headers: str) -> Any:
    raw = body.encode() if isinstance(body, str) else body
    reply = Reply(status, raw, {k.replace("_", "-"): v for k, v in headers.items()})
    return conn.operation("balance").read(reply, call())


def _raised(conn: Connector, status: int, body: str | bytes, **headers: str) -> CaudalError:
    with pytest.raises(CaudalError) as caught:
        _read(conn, status, body, **headers)
    return caught.value


def _belvo_error(code: str, message: str = "said Belvo") -> str:
    return f'[{{"code": "{code}", "message": "{message}", "request_id": "{RID}"}}]'


@pytest.mark.parametrize(
    ("status", "body", "kind", "code", "category", "retry"),
    [
        (
            400,
            _belvo_error("invalid_link"),
            ProviderError,
            "invalid_link",
            "bad_request",
            RetryAdvice.NEVER,
        ),
        (
            401,
            _belvo_error("authentication_failed"),
            AuthenticationError,
            "authentication_failed",
            "auth",
            RetryAdvice.NEVER,
        ),
        (
            403,
            DOC_ERRORS[403],
            ProviderError,
            "access_to_resource_denied",
            "forbidden",
            RetryAdvice.NEVER,
        ),
        (408, DOC_ERRORS[408], ProviderError, "request_timeout", "unfinished", RetryAdvice.NOW),
        (
            500,
            DOC_ERRORS[500],
            ProviderError,
            "unexpected_error",
            "infrastructure",
            RetryAdvice.NOW,
        ),
        (
            429,
            _belvo_error("too_many_requests"),
            ProviderError,
            "too_many_requests",
            "rate_limited",
            RetryAdvice.NOW,
        ),
        (
            503,
            _belvo_error("institution_down"),
            ProviderError,
            "institution_down",
            "infrastructure",
            RetryAdvice.NOW,
        ),
        (
            409,
            _belvo_error("brand_new_code"),
            ProviderError,
            "brand_new_code",
            "unknown",
            RetryAdvice.NEVER,
        ),
    ],
)
def test_each_status_gives_its_typed_error(
    offline: Connector,
    status: int,
    body: str,
    kind: type[ProviderError],
    code: str,
    category: str,
    retry: RetryAdvice,
) -> None:
    error = _raised(offline, status, body)
    assert type(error) is kind
    assert isinstance(error, ProviderError)
    assert (error.status, error.code, error.request_id) == (status, code, RID)
    assert (error.category, error.retry) == (category, retry)
    assert (error.connector, error.capability) == ("belvo.br", "balance")
    assert RID in str(error) and code in str(error)


def test_belvo_message_is_carried(offline: Connector) -> None:
    error = _raised(offline, 408, DOC_ERRORS[408])
    assert isinstance(error, ProviderError)
    assert error.provider_message.startswith("The request timed out, you can retry asking for less")


@pytest.mark.parametrize(("header", "seconds"), [("7", 7), ("0", 0)])
def test_retry_after_is_honoured(offline: Connector, header: str, seconds: int) -> None:
    error = _raised(offline, 500, DOC_ERRORS[500], retry_after=header)
    assert isinstance(error, ProviderError)
    assert error.retry_after == timedelta(seconds=seconds)


def test_retry_after_as_http_date(offline: Connector) -> None:
    error = _raised(offline, 500, DOC_ERRORS[500], retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert isinstance(error, ProviderError)
    assert error.retry_after == timedelta(0)  # in the past: at once


def test_several_errors_are_all_told(offline: Connector) -> None:
    body = (
        f'[{{"code": "invalid", "message": "first", "request_id": "{RID}"}}, '
        '{"code": "required", "message": "second"}]'
    )
    error = _raised(offline, 400, body)
    assert isinstance(error, ProviderError)
    assert error.code == "invalid"
    assert "first" in str(error) and "[required] second" in str(error)


def test_a_lone_error_object_is_read_too(offline: Connector) -> None:
    error = _raised(offline, 401, _belvo_error("authentication_failed")[1:-1])
    assert isinstance(error, AuthenticationError)
    assert error.request_id == RID


@pytest.mark.parametrize(
    "body", ['{"detail": "Not found."}', "[]", '"oops"', '[{"code": 42}]', "null"]
)
def test_undocumented_json_error_is_read_by_its_status_alone(offline: Connector, body: str) -> None:
    # Not Belvo's array of {code, message}: caudal's one reading of a bare status (a 500 is a
    # retryable TransportError for every connector), never a MappingError.
    error = _raised(offline, 500, body)
    assert type(error) is TransportError
    assert isinstance(error, TransportError)
    assert (error.status, error.retry) == (500, RetryAdvice.NOW)


@pytest.mark.parametrize(
    ("status", "body", "retry"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", RetryAdvice.NOW),
        (504, b"upstream timed out", RetryAdvice.NOW),
        (500, b"", RetryAdvice.NOW),
        (400, b"\xff\xfe not utf-8", RetryAdvice.NEVER),
    ],
)
def test_non_json_error_body_is_a_transport_error(
    offline: Connector, status: int, body: bytes, retry: RetryAdvice
) -> None:
    error = _raised(offline, status, body, content_type="text/html")
    assert type(error) is TransportError
    assert isinstance(error, TransportError)
    assert (error.status, error.retry) == (status, retry)
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(("status", "body"), [(401, b""), (403, b"<html>Forbidden by WAF</html>")])
def test_a_refused_credential_is_an_authentication_error_whatever_the_body(
    offline: Connector, status: int, body: bytes
) -> None:
    error = _raised(offline, status, body, content_type="text/html")
    assert type(error) is AuthenticationError
    assert (error.status, error.retry, error.category) == (status, RetryAdvice.NEVER, "auth")


@pytest.mark.parametrize(("status", "body"), [(204, b""), (202, b"[]"), (301, b"")])
def test_undocumented_success_status_is_not_read_as_balances(
    offline: Connector, status: int, body: bytes
) -> None:
    error = _raised(offline, status, body)
    assert isinstance(error, TransportError)
    assert (error.status, error.retry) == (status, RetryAdvice.NEVER)


def test_token_required_is_a_challenge_error(offline: Connector) -> None:
    error = _raised(offline, 428, DOC_TOKEN_REQUIRED)
    assert isinstance(error, ChallengeRequired)
    assert (error.status, error.code, error.request_id) == (428, "token_required", RID)
    assert (error.category, error.retry) == ("challenge", RetryAdvice.NEVER)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            DOC_TOKEN_REQUIRED.replace('"session": "2675b703b9d4451f8d4861a3eee54449",', ""),
            "$[0].session",
        ),
        (DOC_TOKEN_REQUIRED.replace('"expiry": 9600,', '"expiry": -1,'), "$[0].expiry"),
        (
            DOC_TOKEN_REQUIRED.replace(
                '"expects_user_input": true', '"expects_user_input": "maybe"'
            ),
            "$[0].token_generation_data.expects_user_input",
        ),
        ("[]", "$"),
    ],
)
def test_unusable_challenge_is_a_mapping_error(offline: Connector, body: str, path: str) -> None:
    error = _raised(offline, 428, body)
    assert isinstance(error, MappingError)
    assert error.path == path


def test_no_secret_in_any_error(offline: Connector) -> None:
    bodies = [(s, b) for s, b in DOC_ERRORS.items()] + [
        (401, _belvo_error("authentication_failed"))
    ]
    for status, body in [*bodies, (502, "<html/>"), (428, "[]")]:
        text = repr(_raised(offline, status, body)) + str(_raised(offline, status, body))
        assert CREDENTIALS["secret_password"] not in text
        assert CREDENTIALS["secret_id"] not in text
