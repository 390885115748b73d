"""Khipu's envelope errors and HTTP failures become typed caudal errors, never crashes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from caudal import (
    AuthenticationError,
    Connector,
    MappingError,
    Pending,
    ProviderError,
    Reply,
    RetryAdvice,
    TransportError,
)
from caudal_khipu.envelope import ERROR_CATEGORIES, advice_of, category_of

from . import examples


def _read(conn: Connector, capability: str, reply: Reply, **params: Any) -> Any:
    """Run the capability's reader on `reply`, as the runtime would after a request."""
    params = {"credential": examples.login("ana"), **params}
    callback = params.pop("callback_url", None)
    operation, call, _ = conn.prepare(capability, params, callback_url=callback)
    return operation.read(reply, call)


@pytest.mark.parametrize(
    ("kind", "advice", "after"),
    [
        ("RETRY_IMMEDIATELY", RetryAdvice.NOW, None),
        ("WAIT_4_HOURS_BEFORE_RETRY", RetryAdvice.LATER, timedelta(hours=4)),
        ("RETRY_AFTER_NOTIFICATION", RetryAdvice.AFTER_NOTIFICATION, None),
        ("DO_NOT_RETRY", RetryAdvice.NEVER, None),
        ("RETRY_WHEN_IT_RAINS", RetryAdvice.NEVER, None),
    ],
)
def test_error_envelope_per_type(
    afc: Connector, kind: str, advice: RetryAdvice, after: timedelta | None
) -> None:
    with pytest.raises(ProviderError) as caught:
        afc.parse("balance", examples.error("E201", kind))
    error = caught.value
    assert type(error) is ProviderError
    assert (error.code, error.provider_type, error.retry, error.retry_after) == (
        "E201",
        kind,
        advice,
        after,
    )
    assert error.category == "institution_unavailable"
    assert error.provider_message == examples.E201
    assert error.request_id == examples.OPERATION_ID
    assert (error.connector, error.capability) == ("afc.cl", "balance")


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("A000", "auth"),
        ("E000", "generic"),
        ("E101", "credentials"),
        ("E199", "credentials"),
        ("E201", "institution_unavailable"),
        ("E301", "no_data"),
        ("E401", "bad_request"),
        ("E501", "payments"),
        ("E999", "provider_message"),
        ("D000", "unfinished"),
        ("T000", "timed_out"),
        ("F000", "response_build"),
        ("I001", "infrastructure"),
        ("I003", "infrastructure"),
        ("P001", "bad_request"),
        ("P003", "bad_request"),
        ("e201", "institution_unavailable"),
        ("X123", "unknown"),
        ("E2", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_code_families(code: str | None, category: str) -> None:
    assert category_of(code) == category


def test_every_category_pattern_is_reachable() -> None:
    assert len({category for _, category in ERROR_CATEGORIES}) >= 11


def test_unknown_type_is_never_retried_but_carried() -> None:
    assert advice_of("SOMETHING_NEW") == (RetryAdvice.NEVER, None)
    assert advice_of(None) == (RetryAdvice.NEVER, None)


def test_a000_in_a_200_is_an_authentication_error(security: Connector) -> None:
    with pytest.raises(AuthenticationError) as caught:
        security.parse("loans", examples.error("A000", "DO_NOT_RETRY", "Token vencido"))
    assert (caught.value.code, caught.value.category) == ("A000", "auth")


def test_error_without_details_is_still_a_provider_error(afc: Connector) -> None:
    body = examples.ok("null").replace('"OK"', '"ERROR"')
    with pytest.raises(ProviderError) as caught:
        afc.parse("balance", body)
    assert caught.value.code is None
    assert caught.value.category == "unknown"
    assert caught.value.retry is RetryAdvice.NEVER


def test_error_wins_over_a_strange_data(afc: Connector) -> None:
    body = examples.error().replace('"Data": null', '"Data": "not an object"')
    with pytest.raises(ProviderError):
        afc.parse("balance", body)


def test_http_401_is_an_authentication_error(afc: Connector) -> None:
    with pytest.raises(AuthenticationError) as caught:
        _read(afc, "balance", Reply(401, b'{"message": "Unauthorized"}'))
    assert caught.value.status == 401
    assert caught.value.retry is RetryAdvice.NEVER


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_html_5xx_is_a_retryable_transport_error_honouring_retry_after(
    afc: Connector, status: int
) -> None:
    # An HTML page is not Khipu speaking: caudal's one reading of a bare status, the same as
    # for every connector (belvo.br gives the same error for the same reply).
    reply = Reply(
        status,
        b"<html><body>Bad Gateway</body></html>",
        {"content-type": "text/html", "retry-after": "7"},
    )
    with pytest.raises(TransportError) as caught:
        _read(afc, "balance", reply)
    error = caught.value
    assert (error.status, error.retry, error.retry_after) == (
        status,
        RetryAdvice.NOW,
        timedelta(seconds=7),
    )
    assert "text/html" in str(error)


def test_429_is_rate_limited_and_retryable(afc: Connector) -> None:
    with pytest.raises(ProviderError) as caught:
        _read(afc, "balance", Reply(429, b"", {"retry-after": "2"}))
    assert (caught.value.category, caught.value.retry) == ("rate_limited", RetryAdvice.NOW)
    assert caught.value.retry_after == timedelta(seconds=2)


@pytest.mark.parametrize("status", [400, 404, 302])
def test_other_statuses_without_an_envelope_are_not_retried(afc: Connector, status: int) -> None:
    with pytest.raises(TransportError) as caught:
        _read(afc, "balance", Reply(status, b"not json at all"))
    assert caught.value.status == status
    assert caught.value.retry is RetryAdvice.NEVER


def test_error_envelope_in_a_5xx_keeps_khipu_details(afc: Connector) -> None:
    reply = Reply(500, examples.error("I002", "DO_NOT_RETRY", "Falta componente").encode())
    with pytest.raises(ProviderError) as caught:
        _read(afc, "balance", reply)
    assert (caught.value.code, caught.value.status) == ("I002", 500)
    assert caught.value.retry is RetryAdvice.NEVER  # Khipu's own advice wins


def test_error_envelope_in_a_5xx_without_advice_is_retried(afc: Connector) -> None:
    reply = Reply(503, examples.error("I002", "NEW_TYPE", "x").encode())
    with pytest.raises(ProviderError) as caught:
        _read(afc, "balance", reply)
    assert caught.value.retry is RetryAdvice.NOW


@pytest.mark.parametrize("body", [b"", b"<html>", b'{"OperationId": "x", "Status": "OK"', b"[]"])
def test_garbage_200_is_a_mapping_error(afc: Connector, body: bytes) -> None:
    with pytest.raises(MappingError):
        _read(afc, "balance", Reply(200, body))


def test_202_is_pending_with_deadline_and_notes(afc: Connector) -> None:
    pending = _read(
        afc, "balance", Reply(202, examples.ACCEPTED.encode()), callback_url="https://h/cb"
    )
    assert isinstance(pending, Pending)
    assert pending.operation_id == examples.OPERATION_ID
    assert pending.deadline is not None
    assert pending.deadline.utcoffset() == timedelta(hours=-4)
    assert pending.deadline.isoformat() == "2017-07-22T00:00:00-04:00"
    assert pending.notes == ("Data will be sent to the callback URL.",)


def test_202_without_a_callback_url_is_not_silently_a_result(afc: Connector) -> None:
    with pytest.raises(MappingError, match="no callback_url"):
        _read(afc, "balance", Reply(202, examples.ACCEPTED.encode()))


def test_a_202_body_given_to_parse_is_not_a_result(afc: Connector) -> None:
    # A stored acknowledgement parsed later has no data: an error, never an (empty) Result.
    with pytest.raises(MappingError, match="acknowledgement of pending operation"):
        afc.parse("balance", examples.ACCEPTED)
