"""Belvo balance bodies -> canonical Balances: examples from the docs, then properties."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caudal import Balance, Connector, MappingError
from caudal.testing import Golden, conformance_suite
from caudal.testing.strategies import json_text
from caudal_belvo import BelvoBrConnector
from caudal_belvo.emulator import emulator
from caudal_belvo.mapping import INVESTED_NOTE

from .examples import CREDENTIALS, DOC_BALANCE, DOC_BODY, DOC_RECORDS
from .ofda_examples import GOLDEN_ACCOUNTS, GOLDEN_TRANSACTIONS
from .strategies import account_bodies, balance_bodies, transaction_bodies

BODIES = {
    "balance": balance_bodies(min_size=1),
    "accounts": account_bodies(min_size=1),
    "transactions": transaction_bodies(min_size=1),
}
"""The raw-body strategy (also used by tests/plugins/test_mutants.py)."""

GOLDEN = {
    "balance": [
        Golden(
            DOC_BODY,
            DOC_RECORDS,
            source="Belvo's balances documentation, its 200/201 example",
            notes=(INVESTED_NOTE,),
        )
    ],
    "accounts": [GOLDEN_ACCOUNTS],
    "transactions": [GOLDEN_TRANSACTIONS],
}

TestBelvoConformance = conformance_suite(
    BelvoBrConnector, emulator(), bodies=BODIES, examples=GOLDEN
)


def _body(**changes: str) -> str:
    text = DOC_BALANCE
    for key, value in changes.items():
        start = text.index(f'"{key}": ')
        end = text.index("\n", start)
        comma = "," if text[end - 1] == "," else ""
        text = text[:start] + f'"{key}": {value}{comma}' + text[end:]
    return f"[{text}]"


@pytest.mark.parametrize(
    "number",
    [
        "-250.10",
        "0.00",
        "1000.00",
        "1000",
        "7",
        "-0.01",
        "123456789012345678901234567.8900",
        "1.5E+3",
    ],
)
def test_available_amount_is_the_json_text(offline: Connector, number: str) -> None:
    available = offline.parse("balance", _body(available=number)).items[0]
    assert available.amount.amount.as_tuple() == Decimal(number).as_tuple()


def test_negative_available_is_kept_and_others_untouched(offline: Connector) -> None:
    result = offline.parse("balance", _body(available="-35.70", blocked="0.50"))
    assert [str(b.amount.amount) for b in result] == ["-35.70", "0.50", "1000.02"]


def test_as_of_keeps_the_offset(offline: Connector) -> None:
    result = offline.parse("balance", _body(last_updated_at='"2024-02-29T23:59:59.5-03:00"'))
    as_of = result.items[0].as_of
    assert isinstance(as_of, datetime)
    assert as_of.utcoffset() == timedelta(hours=-3)
    assert as_of == datetime(2024, 2, 29, 23, 59, 59, 500000, tzinfo=timezone(timedelta(hours=-3)))


def test_empty_array_is_an_empty_result(offline: Connector) -> None:
    result = offline.parse("balance", "[]")
    assert result.items == ()
    assert result.notes == ()


def test_result_notes_that_invested_may_include_available(offline: Connector) -> None:
    assert offline.parse("balance", DOC_BODY).notes == (INVESTED_NOTE,)


def test_keep_raw_keeps_the_body_verbatim(offline: Connector) -> None:
    assert offline.parse("balance", DOC_BODY, keep_raw=True).raw == DOC_BODY
    assert offline.parse("balance", DOC_BODY).raw is None


@pytest.mark.parametrize("body", ["{}", '{"results": []}', "not json", "[1]", "null"])
def test_a_success_body_of_another_shape_is_a_mapping_error(offline: Connector, body: str) -> None:
    with pytest.raises(MappingError) as caught:
        offline.parse("balance", body)
    assert caught.value.connector == "belvo.br"
    assert caught.value.capability == "balance"


def test_second_account_broken_names_its_index(offline: Connector) -> None:
    broken = DOC_BALANCE.replace('"USD"', '"BRLX"')
    body = f"[{DOC_BALANCE}, {broken}]"
    with pytest.raises(MappingError) as caught:
        offline.parse("balance", body)
    assert caught.value.path == "$[1].currency"


# -- properties (the rest is the conformance suite's, from the declared provenance) ------------

FIGURE_KEYS = ("available", "blocked", "automatically_invested")


def _parse(body: list[dict[str, Any]]) -> tuple[Balance, ...]:
    with BelvoBrConnector(**CREDENTIALS) as conn:
        return conn.parse("balance", json_text(body)).items


@given(balance_bodies(min_size=1), st.sampled_from(FIGURE_KEYS))
def test_a_float_reading_would_be_caught(body: list[dict[str, Any]], key: str) -> None:
    # The mapping goes from text to Decimal; a float route would lose digits on these.
    body[0][key] = Decimal("1000.1234567890123456789")
    amount = _parse(body)[FIGURE_KEYS.index(key)].amount.amount
    assert amount == Decimal("1000.1234567890123456789")
