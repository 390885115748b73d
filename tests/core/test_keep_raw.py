"""A MappingError hands the offending response body to the host app only when it asked."""

from __future__ import annotations

import asyncio

import pytest

from caudal import MappingError
from caudal.errors import RAW_BODY_LIMIT

from .toy import ToyConnector

HTML = b"<html>not json</html>"
"""What the toy emulator's `html` scenario answers with status 200 (tests/core/toy.py)."""


def test_keep_raw_puts_the_body_on_the_mapping_error(toy: ToyConnector) -> None:
    with pytest.raises(MappingError) as caught:
        toy.balance(scenario="html", keep_raw=True)
    assert caught.value.body == HTML
    assert caught.value.body_size == len(HTML)


def test_without_keep_raw_the_mapping_error_holds_no_body(toy: ToyConnector) -> None:
    with pytest.raises(MappingError) as caught:
        toy.balance(scenario="html")
    assert caught.value.body is None and caught.value.body_size is None
    assert HTML not in repr(vars(caught.value)).encode()


def test_async_calls_keep_the_body_too(toy: ToyConnector) -> None:
    async def fetch() -> None:
        await toy.abalance(scenario="bad-currency", keep_raw=True)

    with pytest.raises(MappingError) as caught:
        asyncio.run(fetch())
    assert caught.value.body is not None and b"currency" in caught.value.body
    assert caught.value.path.startswith("$[")


def test_parse_keeps_the_body_and_cuts_a_large_one(toy: ToyConnector) -> None:
    small = b'[{"account": "a1", "amount": 1.5}]'
    with pytest.raises(MappingError) as caught:
        toy.parse("balance", small, keep_raw=True)
    assert caught.value.body == small
    with pytest.raises(MappingError) as plain:
        toy.parse("balance", small)
    assert plain.value.body is None

    large = b"[" + b" " * (RAW_BODY_LIMIT * 2) + b"1]"
    with pytest.raises(MappingError) as cut:
        toy.parse("balance", large, keep_raw=True)
    assert cut.value.body == large[:RAW_BODY_LIMIT]
    assert len(cut.value.body) == RAW_BODY_LIMIT == 256 * 1024
    assert cut.value.body_size == len(large)
