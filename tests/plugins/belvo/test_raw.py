"""The raw models read Belvo's documented examples, and refuse what does not fit, by JSON path."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from caudal import MappingError
from caudal.mapping import validate
from caudal_belvo.raw import (
    BalancesQuery,
    BalancesRequest,
    RawBalance,
    RawError,
    RawResumeRequest,
    RawTokenRequired,
)

from .examples import DOC_BALANCE, DOC_BODY, DOC_ERRORS, DOC_LINK, DOC_TOKEN_REQUIRED, call

BALANCES = TypeAdapter(list[RawBalance])
ERRORS = TypeAdapter(list[RawError])
TOKEN = TypeAdapter(list[RawTokenRequired])


def test_documented_request_example() -> None:
    body = {
        "link": DOC_LINK,
        "account_id": "e2cdb621-f44a-4558-89f6-8ab2a57add7a",
        "save_data": True,
    }
    assert BalancesRequest.model_validate(body).model_dump() == body


def test_request_requires_link_and_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="link"):
        BalancesRequest.model_validate({})
    with pytest.raises(ValueError, match="extra"):
        BalancesRequest.model_validate({"link": DOC_LINK, "acount_id": "typo"})


def test_query_filters_keep_their_documented_names() -> None:
    query = BalancesQuery.model_validate({"omit": "blocked", "fields": "id,available"})
    assert (query.omit, query.fields) == ("blocked", "id,available")


def test_resume_body_is_session_token_link() -> None:
    body = {"session": "2675b703b9d4451f8d4861a3eee54449", "token": "1234", "link": DOC_LINK}
    assert RawResumeRequest.model_validate(body).model_dump() == body


def test_documented_balance_example_is_exact() -> None:
    (raw,) = validate(BALANCES, DOC_BODY, call())
    assert raw.available == raw.blocked == raw.automatically_invested == Decimal("1000.02")
    assert str(raw.available) == "1000.02"
    assert raw.account_internal_identification == "92792126019929279212650822221989319252576"
    assert raw.currency == "USD"
    assert raw.last_updated_at.utcoffset() == timedelta(0)


def test_unknown_keys_are_ignored() -> None:
    body = "[" + DOC_BALANCE[:-1] + ', "brand_new_field": {"x": [1, 2]}}]'
    (raw,) = validate(BALANCES, body, call())
    assert raw.id == "0b94bdf9-3719-43a9-81e7-be95d2318595"


@pytest.mark.parametrize(
    ("replace", "by", "path"),
    [
        ('"currency": "USD"', '"currency": "XYZ"', "$[0].currency"),
        ('"currency": "USD"', '"currency": "usd"', "$[0].currency"),
        ('"available": 1000.02', '"available": "abc"', "$[0].available"),
        ('"blocked": 1000.02', '"blocked": null', "$[0].blocked"),
        (
            '"automatically_invested": 1000.02',
            '"automatically_invested": true',
            "$[0].automatically_invested",
        ),
        (
            '"last_updated_at": "2021-05-21T08:30:00Z"',
            '"last_updated_at": "2021-05-21T08:30:00"',
            "$[0].last_updated_at",
        ),
        (
            '"collected_at": "2024-05-21T08:32:00Z"',
            '"collected_at": 1716280320',
            "$[0].collected_at",
        ),
        ('"id": "0b94bdf9-3719-43a9-81e7-be95d2318595",', "", "$[0].id"),
        (
            '"account_id": "c4bfecf9-4eb6-4920-9f9f-e1f1e60ef321"',
            '"account_id": 7',
            "$[0].account_id",
        ),
    ],
)
def test_a_broken_field_is_named_by_its_json_path(replace: str, by: str, path: str) -> None:
    body = DOC_BODY.replace(replace, by)
    assert body != DOC_BODY
    with pytest.raises(MappingError) as caught:
        validate(BALANCES, body, call())
    assert caught.value.path == path


def test_documented_error_examples() -> None:
    for status, body in DOC_ERRORS.items():
        (raw,) = validate(ERRORS, body, call())
        assert raw.request_id == "9e7b283c6efa449c9c028a16b5c249fb", status
        assert raw.code and raw.message


def test_documented_token_required_example() -> None:
    (raw,) = validate(TOKEN, DOC_TOKEN_REQUIRED, call())
    assert raw.session == "2675b703b9d4451f8d4861a3eee54449"
    assert raw.expiry == 9600
    assert raw.token_generation_data is not None
    assert raw.token_generation_data.type == "numeric"
    assert raw.token_generation_data.expects_user_input is True
