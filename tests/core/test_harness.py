"""The plugin authors' property harness, run on the toy connector, and shown able to fail."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caudal import Balance, BalanceKind, Call, Money, Reply, Result, capability
from caudal.provenance import Provenance, as_is, constant, money
from caudal.sandbox import Emulator
from caudal.testing import conformance_suite, mapping_suite, strategies
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


TOY_PROVENANCE = Provenance(
    "balance",
    raw=list[RawBalance],
    items="$[*]",
    maps=(
        as_is("account", "account_id"),
        money("amount", "amount", currency_from="currency"),
        as_is("at", "as_of"),
        constant("kind", BalanceKind.AVAILABLE),
        constant("provider_kind", "available"),
    ),
)


def test_the_declared_properties_catch_float_rounding() -> None:
    suite = conformance_suite(
        RoundingConnector,
        Emulator(name="none", routes=[], settings={}),
        bodies={"balance": TOY_BODIES},
        examples={"balance": []},
        provenance=[TOY_PROVENANCE],
        max_examples=200,
    )
    with pytest.raises(AssertionError, match=r"raw \$\[\d+\]\.amount -> Balance #\d+\.amount"):
        suite().test_balance_conservation()


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
