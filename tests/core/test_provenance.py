"""Declared provenance: the declaration checks, and each property shown able to fail.

The toy ledger (tests/core/toy.py) is the connector under test; each bug planted here is one the
catalogue of tests/core/mutants.py does not express (a leak from an ignored field, a crash on a
null, a golden example that does not match), or a correct mapping that must pass.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import Phase
from hypothesis import strategies as st
from pydantic import BaseModel

from caudal import (
    Account,
    AccountCategory,
    Balance,
    BalanceKind,
    Call,
    Money,
    Reply,
    Result,
    capability,
)
from caudal.model import minor_units
from caudal.provenance import (
    Provenance,
    Sign,
    as_is,
    constant,
    declared,
    derived,
    ignored,
    kind,
    money,
    spell,
    tokens,
)
from caudal.sandbox import Emulator
from caudal.testing import Golden, conformance_suite, strategies
from caudal.testing._declared import allowed, declaration_problems, roles_of
from caudal.testing._oracle import check_body

from .mutants import settings_profile
from .test_kit_power import LEDGER_BODIES
from .toy import (
    LEDGER_EXAMPLE,
    LEDGER_PROVENANCE,
    RawLedger,
    RawLedgerEntry,
    ToyLedgerConnector,
    read_ledger,
)

NOWHERE = Emulator(name="none", routes=[], settings={})


def suite(connector: Any, prov: Provenance = LEDGER_PROVENANCE, **kw: Any) -> Any:
    """The conformance suite's checks for `connector`; failures are reported unshrunk (fast)."""
    with settings_profile(phases=(Phase.explicit, Phase.generate)):
        return conformance_suite(
            connector,
            NOWHERE,
            bodies={"balance": kw.pop("bodies", LEDGER_BODIES)},
            examples={"balance": kw.pop("examples", [LEDGER_EXAMPLE])},
            provenance=[prov],
            max_examples=kw.pop("max_examples", 60),
        )()


# -- the declaration itself -----------------------------------------------------------------------


def test_paths_read_as_written() -> None:
    assert tokens("$.Data.Balance[*].Amount") == ("Data", "Balance", "*", "Amount")
    assert tokens("$[*]") == ("*",)
    assert spell(("Data", "Balance", "*", "Amount")) == "Data.Balance[*].Amount"


def test_a_raw_field_neither_mapped_nor_ignored_is_named() -> None:
    prov = replace(LEDGER_PROVENANCE, ignored=LEDGER_PROVENANCE.ignored[1:])
    assert declaration_problems(prov) == [
        "raw field entries[*].branch is neither mapped nor declared ignored (with a reason)"
    ]


def test_a_declared_field_the_raw_model_lacks_is_named() -> None:
    prov = replace(
        LEDGER_PROVENANCE,
        maps=(*LEDGER_PROVENANCE.maps, as_is("iban", "references.iban")),
        ignored=(*LEDGER_PROVENANCE.ignored, ignored("swift", "no field")),
    )
    assert declaration_problems(prov) == [
        "entries[*].iban is declared but is not a field of the raw model",
        "entries[*].swift is declared ignored but is not in the raw model",
    ]


def test_a_target_the_record_lacks_and_a_required_field_without_source_are_named() -> None:
    maps = tuple(m for m in LEDGER_PROVENANCE.maps if m.target != "as_of")
    prov = replace(LEDGER_PROVENANCE, maps=(*maps, as_is("at", "asof")))
    assert declaration_problems(prov) == [
        "asof is not a field of Balance",
        "Balance.as_of is required but no raw field is declared",
    ]


def test_wildcards_must_pair_up_and_records_exist() -> None:
    with pytest.raises(ValueError, match="must pair up"):
        Provenance("balance", raw=Any, items="$", maps=(as_is("a[*].b", "units"),))
    with pytest.raises(ValueError, match="record 3 of 3"):
        Provenance("balance", raw=Any, items="$", maps=(as_is("a", "units", record=3),), per_item=3)
    with pytest.raises(ValueError, match="exactly one of currency"):
        money("a", "amount")


def test_the_connector_lists_its_declarations() -> None:
    assert declared(ToyLedgerConnector) == {"balance": LEDGER_PROVENANCE}
    assert declared(object) == {}


def test_a_missing_declaration_or_golden_example_fails_the_suite() -> None:
    class Undeclared(ToyLedgerConnector):
        provenance = ()

    bare = conformance_suite(
        Undeclared, NOWHERE, bodies={"balance": LEDGER_BODIES}, examples={"balance": []}
    )()
    with pytest.raises(AssertionError, match=r"no declared provenance for \['balance'\]"):
        bare.test_every_capability_declares_its_provenance()
    with pytest.raises(AssertionError, match=r"no golden example for \['balance'\]"):
        bare.test_every_capability_has_golden_examples()


# -- a correct minor-units conversion is never a false failure ---------------------------------


class DividingConnector(ToyLedgerConnector):
    """Converts minor units by division (`Decimal(123400) / 100` is `1234`, not `1234.00`)."""

    @capability("balance")
    def balance_operation(self) -> Any:
        def divided(inner: Any, reply: Reply, call: Call[Any]) -> Result[Balance]:
            exact = inner(reply, call)
            items = tuple(
                b.model_copy(
                    update={
                        "amount": Money(
                            amount=b.amount.amount.normalize(), currency=b.amount.currency
                        )
                    }
                )
                for b in exact.items
            )
            return exact.model_copy(update={"items": items})

        return super().balance_operation().wrap_read(divided)


def test_a_correct_conversion_by_division_passes_every_property() -> None:
    checks = suite(DividingConnector)
    for name in ("conservation", "perturbation", "scale", "sign_and_kind"):
        getattr(checks, f"test_balance_{name}")()


# -- bugs the catalogue does not express ------------------------------------------------------


class LeakingConnector(ToyLedgerConnector):
    """Carries the ignored `branch` into the records: the declaration says it is not carried."""

    @capability("balance")
    def balance_operation(self) -> Any:
        def leak(inner: Any, reply: Reply, call: Call[Any]) -> Result[Balance]:
            from caudal.mapping import load_json

            result = inner(reply, call)
            entries = load_json(reply.body)["entries"]
            items = tuple(
                b.model_copy(update={"references": {"branch": e["branch"]}})
                for b, e in zip(result.items, entries, strict=True)
            )
            return result.model_copy(update={"items": items})

        return super().balance_operation().wrap_read(leak)


def test_perturbation_catches_an_ignored_field_that_leaks() -> None:
    checks = suite(LeakingConnector)
    checks.test_balance_conservation()  # the declared values are all right

    def perturb_a_few_times() -> None:
        for _ in range(5):  # the field to change is drawn; a few runs reach `branch`
            checks.test_balance_perturbation()

    with pytest.raises(AssertionError, match="perturbation") as caught:
        perturb_a_few_times()
    message = str(caught.value)
    assert "changing raw $.entries[" in message and "].branch" in message
    assert "references.branch" in message and "declared to reach nothing" in message
    assert "\nbody: {" in message


class RawLimited(BaseModel):
    account: str
    limit: Decimal | None = None
    currency: str
    at: str


def read_limited(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """A mapper that drops the record whose optional `limit` is null: a silently lost record."""
    from caudal.mapping import load_json

    items = [
        Balance(
            account_id=raw["account"],
            kind=BalanceKind.OTHER,
            provider_kind="limit",
            amount=Money(amount=raw["limit"] or Decimal(0), currency=raw["currency"]),
            as_of=raw["at"],
        )
        for raw in load_json(reply.body)
        if raw.get("limit") is not None
    ]
    return Result(connector=call.connector, capability=call.capability, items=tuple(items))


LIMITED = Provenance(
    "balance",
    raw=list[RawLimited],
    items="$[*]",
    maps=(
        as_is("account", "account_id"),
        money("limit", "amount", currency_from="currency", optional="limit", when_null=None),
        as_is("at", "as_of"),
        constant("kind", BalanceKind.OTHER),
        constant("provider_kind", "limit"),
    ),
)


def test_nulls_catch_a_record_lost_on_a_null() -> None:
    class Limited(ToyLedgerConnector):
        @capability("balance")
        def balance_operation(self) -> Any:
            return replace(super().balance_operation(), read=read_limited)

    body = st.fixed_dictionaries(
        {
            "account": st.just("7"),
            "limit": st.decimals(places=2, min_value=1, max_value=100),
            "currency": st.just("USD"),
            "at": st.just("2026-01-31T23:59:59-06:00"),
        }
    )
    checks = suite(Limited, LIMITED, bodies=st.lists(body, min_size=1, max_size=2))
    with pytest.raises(AssertionError, match=r"nulls \(\$\[\d+\]\.limit null\): \d raw item"):
        checks.test_balance_nulls()


def test_a_golden_example_names_every_field_that_differs() -> None:
    wrong = Golden(
        LEDGER_EXAMPLE.body,
        [
            LEDGER_EXAMPLE.records[0].model_copy(
                update={"amount": Money(amount=Decimal("1234.560"), currency="USD")}
            ),
            *LEDGER_EXAMPLE.records[1:],
        ],
        source="a hand-written example with one digit too many",
    )
    with pytest.raises(AssertionError) as caught:
        suite(ToyLedgerConnector, examples=[wrong]).test_balance_golden_examples()
    assert "(a hand-written example with one digit too many)" in str(caught.value)
    assert "Balance #0.amount.amount: expected Decimal('1234.560'), got Decimal('1234.56')" in str(
        caught.value
    )


def test_the_real_toy_has_no_raw_entry_field_left_undeclared() -> None:
    fields = set(RawLedgerEntry.model_fields)
    mapped = {m.source for m in LEDGER_PROVENANCE.maps} | {"currency", "direction"}
    skipped = {i.path for i in LEDGER_PROVENANCE.ignored}
    assert fields == (mapped | skipped) - {"$.next"}
    assert read_ledger is not None


def _rewrite(update: Any) -> Any:
    """A ToyLedgerConnector subclass whose records go through `update(balance)`."""

    class Rewritten(ToyLedgerConnector):
        @capability("balance")
        def balance_operation(self) -> Any:
            def rewrite(inner: Any, reply: Reply, call: Call[Any]) -> Result[Balance]:
                result = inner(reply, call)
                items = tuple(update(b) for b in result.items)
                return result.model_copy(update={"items": items})

            return super().balance_operation().wrap_read(rewrite)

    return Rewritten


def test_conservation_compares_as_is_figures_digit_for_digit() -> None:
    # 10.50 units read as 10.5: equal by value, not what the provider wrote.
    normalizing = _rewrite(
        lambda b: b.model_copy(update={"units": b.units.normalize() if b.units else b.units})
    )
    result = normalizing().parse("balance", LEDGER_EXAMPLE.body)
    assert str(result.items[0].units) == "10.5"
    with pytest.raises(AssertionError, match=r"entries\[\d+\]\.units -> Balance #\d+\.units: "):
        suite(normalizing).test_balance_conservation()


def test_scale_checks_every_exponent_not_only_the_generated_currency() -> None:
    # Right for USD (2 places), wrong for CLP (0), KWD (3) and CLF (4).
    two_places = _rewrite(
        lambda b: b.model_copy(
            update={
                "amount": Money(
                    amount=b.amount.amount.scaleb((minor_units(b.amount.currency) or 0) - 2),
                    currency=b.amount.currency,
                )
            }
        )
    )
    usd_only = strategies.from_model(
        RawLedger,
        {"entries.currency": st.just("USD"), "entries.amount_minor": st.integers(0, 10**12)},
    )
    checks = suite(two_places, bodies=usd_only)
    checks.test_balance_conservation()  # the generated bodies alone cannot tell
    with pytest.raises(AssertionError, match=r"scale \((BHD|CLF|CLP|COP|\w+), exponent [034]\)"):
        checks.test_balance_scale()


def _booked_credits() -> Any:
    """Bodies whose entries are all `ClosingBooked` credits: conservation alone cannot see a
    bug in another word of the kind table, or in the debit sign."""
    return strategies.from_model(
        RawLedger,
        {
            "entries.type": st.just("ClosingBooked"),
            "entries.direction": st.just("CR"),
            # within Money's 10**32 (an unbounded integer made the test flaky)
            "entries.amount_minor": st.integers(0, 10**20),
        },
    )


def test_sign_and_kind_try_every_word_of_the_table() -> None:
    hold_is_available = _rewrite(
        lambda b: (
            b.model_copy(update={"kind": BalanceKind.AVAILABLE}) if b.provider_kind == "Hold" else b
        )
    )
    checks = suite(hold_is_available, bodies=_booked_credits())
    checks.test_balance_conservation()
    with pytest.raises(AssertionError, match=r"kind: raw \$\.entries\[\d+\]\.type -> .*\.kind"):
        checks.test_balance_sign_and_kind()


def test_sign_and_kind_flip_every_indicator() -> None:
    debit_ignored = _rewrite(lambda b: b.model_copy(update={"amount": abs_money(b.amount)}))
    checks = suite(debit_ignored, bodies=_booked_credits())
    checks.test_balance_conservation()
    with pytest.raises(AssertionError, match=r"sign: raw \$\.entries\[\d+\]\.amount_minor"):
        checks.test_balance_sign_and_kind()


def abs_money(money: Money) -> Money:
    return Money(amount=money.amount.copy_abs(), currency=money.currency)


# -- broadcast targets, key=value selectors, a fallback currency, derived values ----------------


class RawFigures(BaseModel):
    current: Decimal | None = None
    available: Decimal | None = None


class RawAccountish(BaseModel):
    id: str
    currency: str | None = None
    home_currency: str
    owed: str | None = None
    category: str | None = None
    code: int | None = None
    rule: str | None = None
    figures: RawFigures


ACCOUNTISH = Provenance(
    "accounts",
    raw=list[RawAccountish],
    items="$[*]",
    maps=(
        as_is("id", "account_id"),
        kind(
            "category", "category", {"CHK": AccountCategory.CHECKING}, default=AccountCategory.OTHER
        ),
        as_is("id", "balances[*].account_id"),
        money(
            "figures.current",
            "balances[provider_kind=current].amount",
            currency_from="currency",
            currency_else="home_currency",
            sign=Sign("owed", negative="YES", positive="NO"),
        ),
        money(
            "figures.available",
            "balances[provider_kind=available].amount",
            currency_from="currency",
            currency_else="home_currency",
        ),
        as_is("code", "references.code"),
        derived("rule", "references.rule", "kept when it is not blank"),
    ),
)


def _account(**fields: Any) -> Account:
    balances = [
        Balance(
            account_id=fields.pop("balance_id", "A1"),
            kind=BalanceKind.BOOKED,
            provider_kind=key,
            amount=Money(amount=Decimal(amount), currency=fields.pop("balance_currency", "USD")),
            as_of="2026-01-31T23:59:59-06:00",
        )
        for key, amount in fields.pop("balances", {"current": "-10.50"}).items()
    ]
    base = {"account_id": "A1", "category": AccountCategory.OTHER, "balances": balances}
    return Account.model_validate({**base, **fields})


ACCOUNTISH_BODY: dict[str, Any] = {
    "id": "A1",
    "currency": None,
    "home_currency": "USD",
    "owed": "YES",
    "category": None,
    "code": 42,
    "rule": "x",
    "figures": {"current": Decimal("10.50"), "available": None},
}


def _check(record: Account, **raw: Any) -> str | None:
    result = Result(connector="t", capability="accounts", items=(record,))
    return check_body(ACCOUNTISH, [{**ACCOUNTISH_BODY, **raw}], result)


def test_targets_may_broadcast_and_select_an_element_by_key() -> None:
    assert tokens("balances[provider_kind=current].amount") == (
        "balances",
        "provider_kind=current",
        "amount",
    )
    assert spell(tokens("balances[provider_kind=current].amount")) == (
        "balances[provider_kind=current].amount"
    )
    assert declaration_problems(ACCOUNTISH) == []
    assert _check(_account(references={"code": "0042"})) is None
    # every element of the broadcast target holds the raw value
    assert "balances[0].account_id" in str(_check(_account(balance_id="B2")))
    # the selected element holds the figure, signed and in the fallback currency
    assert "expected -10.50 USD" in str(_check(_account(balances={"current": "10.50"})))
    assert "currency EUR, not USD" in str(_check(_account(balance_currency="EUR")))
    assert (
        _check(
            _account(
                balances={"current": "-10.50"}, balance_currency="EUR", references={"code": "42"}
            ),
            currency="EUR",
        )
        is None
    )
    # a null figure gives no element; a figure without its element is caught
    assert "balances[provider_kind=current].amount" in str(_check(_account(balances={})))
    assert "figures.available -> Account #0.balances[1].amount: expected None" in str(
        _check(_account(balances={"current": "-10.50", "available": "1"}))
    )


def test_a_null_word_is_the_tables_default_and_a_number_may_be_kept_as_its_text() -> None:
    assert "category" in str(_check(_account(category=AccountCategory.CHECKING)))
    assert "references.code" in str(_check(_account(references={"code": "43"})))
    assert _check(_account(references={"code": "42"}), code=None) is not None
    assert _check(_account(references={}), code=None) is None  # a null left out of a dict


def test_a_derived_value_is_checked_by_perturbation_only() -> None:
    assert "derived: kept when it is not blank" in ACCOUNTISH.rows()[-1][1]
    assert _check(_account(references={"code": "42", "rule": "anything"})) is None
    paths = allowed(ACCOUNTISH, [ACCOUNTISH_BODY], (0, "rule"), roles_of(ACCOUNTISH, (0, "rule")))
    assert paths == {(0, ("references", "rule"))}
    with pytest.raises(ValueError, match="currency_else= needs currency_from="):
        money("a", "amount", currency="USD", currency_else="b")
    Provenance("accounts", raw=Any, items="$", maps=(as_is("id", "balances[*].account_id"),))
