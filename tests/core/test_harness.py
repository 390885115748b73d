"""The plugin authors' property harness, run on the toy connector, and shown able to fail."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caudal import Balance, BalanceKind, Call, Money, Reply, Result, capability
from caudal.testing import mapping_suite, strategies
from caudal.testing._mapping import _replace

from .toy import RawBalance, ToyConnector, read_balance

TOY_BODIES = st.lists(
    strategies.from_model(
        RawBalance,
        overrides={
            "at": strategies.datetimes(colon=False),
            "account": st.from_regex(r"0[0-9]{3,8}", fullmatch=True),
        },
    ),
    max_size=8,
)

TestToyBalanceMapping = mapping_suite(ToyConnector, "balance", TOY_BODIES, max_examples=200)


class RoundingConnector(ToyConnector):
    """A connector with the classic bug: amounts through float."""

    @capability("balance")
    def balance_operation(self) -> Any:
        op = super().balance_operation()

        def lossy(reply: Reply, call: Call[Any]) -> Result[Balance]:
            exact = read_balance(reply, call)
            items = tuple(
                b.model_copy(
                    update={
                        "amount": Money(
                            amount=Decimal(str(float(b.amount.amount))), currency=b.amount.currency
                        )
                    }
                )
                for b in exact.items
            )
            return exact.model_copy(update={"items": items})

        return op.wrap_read(lambda _inner, reply, call: lossy(reply, call))


class LaxConnector(ToyConnector):
    """A connector that swallows a broken field instead of failing."""

    @capability("balance")
    def balance_operation(self) -> Any:
        op = super().balance_operation()

        def lax(inner: Any, reply: Reply, call: Call[Any]) -> Result[Balance]:
            try:
                return inner(reply, call)  # type: ignore[no-any-return]
            except Exception:
                return Result(connector=call.connector, capability=call.capability)

        return op.wrap_read(lax)


def test_the_harness_catches_float_rounding() -> None:
    suite = mapping_suite(RoundingConnector, "balance", TOY_BODIES, max_examples=200)
    with pytest.raises(AssertionError, match="digit for digit"):
        suite().test_amounts_are_the_raw_json_numbers()


def test_the_harness_catches_a_swallowed_schema_break() -> None:
    suite = mapping_suite(LaxConnector, "balance", TOY_BODIES.filter(bool), max_examples=50)
    with pytest.raises(AssertionError, match="the mapping accepted it"):
        suite().test_schema_break_names_the_field()


@settings(max_examples=100)
@given(body=TOY_BODIES.filter(bool), data=st.data())
def test_replace_changes_exactly_one_value(body: list[Any], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(body) - 1))
    changed = _replace(body, (index, "currency"), "XXX")
    assert [i for i, (a, b) in enumerate(zip(body, changed, strict=True)) if a != b] in (
        [index],
        [],
    )
    assert changed[index]["currency"] == "XXX"


def test_kinds_are_canonical() -> None:
    assert {k.value for k in BalanceKind} == {
        "available",
        "booked",
        "blocked",
        "invested",
        "credit_limit",
        "other",
    }
