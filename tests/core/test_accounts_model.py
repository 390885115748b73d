"""The canonical Account and Transaction: what they accept, refuse and flag."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from caudal.model import (
    Account,
    AccountCategory,
    Balance,
    BalanceKind,
    Counterparty,
    Money,
    Party,
    TaxScheme,
    Transaction,
    TransactionDirection,
    TransactionStatus,
)


def _transaction(amount: str, direction: str, **more: object) -> Transaction:
    return Transaction.model_validate(
        {
            "transaction_id": "t-1",
            "amount": {"amount": Decimal(amount), "currency": "BRL"},
            "direction": direction,
            "status": "booked",
            **more,
        }
    )


@pytest.mark.parametrize(
    ("amount", "direction"),
    [("-0.01", "inflow"), ("0.01", "outflow")],
)
def test_a_sign_against_the_direction_is_refused(amount: str, direction: str) -> None:
    with pytest.raises(ValidationError, match=f"an {direction} must not be"):
        _transaction(amount, direction)


@pytest.mark.parametrize(
    ("amount", "direction"),
    [("2145.45", "inflow"), ("-2145.45", "outflow"), ("0", "outflow"), ("-3.1", "unknown")],
)
def test_consistent_signs_are_kept_digit_for_digit(amount: str, direction: str) -> None:
    record = _transaction(amount, direction)
    assert str(record.amount.amount) == amount
    assert record.direction == TransactionDirection(direction)


def test_mcc_is_four_digits_kept_as_text() -> None:
    assert _transaction("1", "inflow", mcc="0742").mcc == "0742"
    with pytest.raises(ValidationError):
        _transaction("1", "inflow", mcc="742")


@pytest.mark.parametrize(
    ("scheme", "raw", "tax_id", "valid"),
    [
        (TaxScheme.BR_CPF, "111.444.777-35", "11144477735", True),
        (TaxScheme.BR_CPF, "111.444.777-36", "11144477736", False),
        (TaxScheme.BR_CNPJ, "11.222.333/0001-81", "11222333000181", True),
        (TaxScheme.BR_CNPJ, "11222333000182", "11222333000182", False),
        (TaxScheme.BR_CPF, "12345", "12345", False),
    ],
)
def test_counterparty_tax_ids_are_checked_and_flagged_never_refused(
    scheme: TaxScheme, raw: str, tax_id: str, valid: bool
) -> None:
    party = Party.of(scheme, raw)
    assert (party.tax_id, party.tax_id_valid) == (tax_id, valid)
    assert party == Party(scheme=scheme, tax_id=raw)  # the fast path builds the validated one
    record = _transaction("5", "inflow", counterparty=Counterparty(party=party))
    assert record.counterparty is not None and record.counterparty.party == party


def test_a_balance_timestamp_may_be_null_but_must_be_given() -> None:
    money = Money(amount=Decimal("1.00"), currency="BRL")
    assert Balance(kind="credit_limit", provider_kind="x", amount=money, as_of=None).as_of is None
    with pytest.raises(ValidationError, match="as_of"):
        Balance(kind="available", provider_kind="x", amount=money)  # type: ignore[call-arg]


def test_an_account_keeps_its_strings_exactly() -> None:
    account = Account(
        account_id="0001",
        category=AccountCategory.CHECKING,
        provider_category="CHECKING_ACCOUNT",
        number="00457220",
        agency="0444",
        check_digit="0",
    )
    assert (account.number, account.agency, account.check_digit) == ("00457220", "0444", "0")
    assert BalanceKind.CREDIT_LIMIT == "credit_limit"
    assert TransactionStatus.PENDING == "pending"
    assert date(2024, 1, 1) == _transaction("1", "inflow", value_date="2024-01-01").value_date
