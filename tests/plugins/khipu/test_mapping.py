"""Mappings: the documentation's own examples, the generic harness, Khipu-specific properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from stdnum.cl import rut

from caudal import (
    Balance,
    BalanceKind,
    Connector,
    Contribution,
    FundShare,
    Loan,
    Money,
    Party,
    ProviderError,
    RetryAdvice,
    registry,
)
from caudal.testing import conformance_suite
from caudal.testing.strategies import json_text
from caudal_khipu.afc import AfcConnector
from caudal_khipu.bancosecurity import KINDS, BancoSecurityConnector, signed
from caudal_khipu.emulator import emulator

from . import examples
from . import strategies as bodies

SETTINGS = {"base_url": "http://127.0.0.1:9", "api_key": "k"}
EXAMPLES = 120


# -- the documentation's examples -----------------------------------------------------------


def test_afc_balance_example(afc: Connector) -> None:
    result = afc.parse("balance", examples.AFC_BALANCE)
    employer = Party.rut("11.222.333-4", "KHIPU SPA")
    assert result.items == (
        Balance(
            kind=BalanceKind.BOOKED,
            provider_kind="ContributionsBalance",
            amount=Money(amount=Decimal("10000"), currency="CLP"),
            as_of=date(2017, 7, 22),
            units=Decimal("223.45"),
            breakdown=(
                FundShare(
                    employer=employer,
                    amount=Money(amount=Decimal("10000"), currency="CLP"),
                    units=Decimal("223.45"),
                ),
            ),
        ),
    )
    assert result.operation_id == examples.OPERATION_ID
    assert result.notes == ()
    # The docs' RUT fails its check digit (it should end in 9): kept, normalized, flagged.
    assert (employer.tax_id, employer.tax_id_valid) == ("11222333-4", False)


def test_afc_contributions_example(afc: Connector) -> None:
    result = afc.parse("contributions", examples.AFC_CONTRIBUTIONS)
    assert result.items == (
        Contribution(
            period="2017-07",
            employer=Party.rut("11.222.333-4", "KHIPU SPA"),
            paid_on=date(2017, 7, 22),
            taxable_income=Money(amount=Decimal("10000"), currency="CLP"),
            amount=Money(amount=Decimal("1000"), currency="CLP"),
        ),
    )


def test_bank_balance_example_keeps_the_offset_without_colon(security: Connector) -> None:
    (balance,) = security.parse("balance", examples.BANK_BALANCES).items
    assert balance == Balance(
        account_id="873458",
        kind=BalanceKind.AVAILABLE,
        provider_kind="ClosingAvailable",
        amount=Money(amount=Decimal("10000"), currency="CLP"),
        as_of=datetime(2017, 7, 21, 17, 32, 28, tzinfo=timezone(timedelta(hours=-4))),
    )
    assert isinstance(balance.as_of, datetime)
    assert balance.as_of.utcoffset() == timedelta(hours=-4)
    assert balance.as_of.isoformat() == "2017-07-21T17:32:28-04:00"


def test_bank_loans_example(security: Connector) -> None:
    (loan,) = security.parse("loans", examples.BANK_LOANS).items
    assert loan == Loan(
        loan_id="75599",
        outstanding=Money(amount=Decimal("10990"), currency="CLP"),
        granted=Money(amount=Decimal("20000"), currency="CLP"),
        granted_on=date(2024, 5, 6),
        due_on=date(2023, 7, 26),
        current_instalment=7,
        instalments_total=9,
    )


def test_docs_quoted_integer_examples_are_read_exactly(afc: Connector) -> None:
    # The docs print integer examples in quotes ("10000"); a string number is still exact.
    body = examples.AFC_CONTRIBUTIONS.replace('"TaxableIncome": 10000', '"TaxableIncome": "10000"')
    (item,) = afc.parse("contributions", body).items
    assert item.taxable_income.amount.as_tuple() == Decimal("10000").as_tuple()


@pytest.mark.parametrize(("name", "capability"), examples.CAPABILITIES)
def test_data_null_is_a_no_data_provider_error(name: str, capability: str) -> None:
    with registry.get(name, **SETTINGS) as conn, pytest.raises(ProviderError) as caught:
        conn.parse(capability, examples.ok("null"))
    assert (caught.value.category, caught.value.request_id) == ("no_data", examples.OPERATION_ID)
    assert caught.value.retry is RetryAdvice.NEVER


@pytest.mark.parametrize(("name", "capability"), examples.CAPABILITIES)
def test_additional_information_becomes_a_note_and_raw_is_kept(name: str, capability: str) -> None:
    body = examples.BODIES[(name, capability)].replace(
        '"AdditionalInformation": null', '"AdditionalInformation": "Campo incompleto"'
    )
    with registry.get(name, **SETTINGS) as conn:
        result = conn.parse(capability, body, keep_raw=True)
        assert conn.parse(capability, body).raw is None
    assert result.notes == ("Campo incompleto",)
    assert result.raw == body


def test_empty_and_null_arrays_map_to_no_records(security: Connector) -> None:
    assert security.parse("balance", examples.ok('{"Balance": []}')).items == ()
    assert security.parse("loans", examples.ok('{"Loan": null}')).items == ()


def test_unknown_balance_type_is_other_with_the_word_kept(security: Connector) -> None:
    body = examples.BANK_BALANCES.replace("ClosingAvailable", "InterimAvailable")
    (balance,) = security.parse("balance", body).items
    assert (balance.kind, balance.provider_kind) == (BalanceKind.OTHER, "InterimAvailable")


@pytest.mark.parametrize(("kind", "expected"), [*KINDS.items(), ("Expected", BalanceKind.OTHER)])
def test_balance_type_to_kind(security: Connector, kind: str, expected: BalanceKind) -> None:
    body = examples.BANK_BALANCES.replace("ClosingAvailable", kind)
    (balance,) = security.parse("balance", body).items
    assert balance.kind is expected


def test_debit_is_negative_and_zero_debit_is_plain_zero(security: Connector) -> None:
    debit = examples.BANK_BALANCES.replace('"Credit"', '"Debit"').replace("10000", "10000.50")
    (balance,) = security.parse("balance", debit).items
    assert str(balance.amount.amount) == "-10000.50"
    zero = debit.replace("10000.50", "0.00")
    (balance,) = security.parse("balance", zero).items
    assert str(balance.amount.amount) == "0.00"


def test_signed_is_exact_beyond_the_decimal_context() -> None:
    forty = Decimal("1234567890123456789012345678901234567.890")
    assert str(signed(forty, "Debit")) == "-" + str(forty)
    assert signed(forty, "Credit") is forty


def test_missing_granted_amount_is_unknown(security: Connector) -> None:
    body = examples.BANK_LOANS.replace(
        '"GrantedAmount": {"Amount": 20000, "Currency": "CLP"}, ', ""
    )
    (loan,) = security.parse("loans", body).items
    assert loan.granted is None


def test_loan_number_keeps_leading_zeros(security: Connector) -> None:
    body = examples.BANK_LOANS.replace('"75599"', '"0075599"')
    (loan,) = security.parse("loans", body).items
    assert loan.loan_id == "0075599"


def test_unknown_keys_are_ignored(security: Connector) -> None:
    body = examples.BANK_BALANCES.replace(
        '"AccountId"', '"CreditLine": [{"Included": true}], "AccountId"'
    ).replace('"OperationId"', '"Links": {"Self": "x"}, "OperationId"')
    assert len(security.parse("balance", body)) == 1


# -- the core's conformance suite (mapping harness included), per connector ---------------------

TestAfcConformance = conformance_suite(
    AfcConnector,
    emulator(),
    bodies={
        "balance": bodies.afc_balance_bodies(),
        "contributions": bodies.afc_contribution_bodies(),
    },
    settings=SETTINGS,
    max_examples=EXAMPLES,
)
TestBancoSecurityConformance = conformance_suite(
    BancoSecurityConnector,
    emulator(),
    bodies={"balance": bodies.bank_balance_bodies(), "loans": bodies.bank_loan_bodies()},
    settings=SETTINGS,
    max_examples=EXAMPLES,
)


# -- Khipu-specific properties -------------------------------------------------------------


def _same_digits(mapped: Decimal, raw: Any) -> bool:
    """`mapped` is the raw JSON number's text, digit for digit and exponent (sign aside)."""
    text = Decimal(json_text(raw))
    return mapped.copy_abs().as_tuple() == text.copy_abs().as_tuple()


def _written_offset(text: str) -> timedelta | None:
    moment = datetime.fromisoformat(text) if "T" in text else None
    return None if moment is None else moment.utcoffset()


@settings(max_examples=EXAMPLES)
@given(body=bodies.afc_balance_bodies())
def test_afc_balance_is_one_booked_clp_balance_with_a_share_per_detail(body: Any) -> None:
    with AfcConnector(**SETTINGS) as conn:
        result = conn.parse("balance", json_text(body))
    if body["Data"] is None:
        assert result.items == ()
        return
    account = body["Data"]["ContributionsBalance"]
    (balance,) = result.items
    assert (balance.kind, balance.amount.currency) == (BalanceKind.BOOKED, "CLP")
    assert (
        balance.amount.amount.as_tuple() == Decimal(json_text(account["TotalBalance"])).as_tuple()
    )
    assert balance.units is not None
    assert balance.units.as_tuple() == Decimal(json_text(account["TotalBalanceCuota"])).as_tuple()
    assert balance.as_of == date.fromisoformat(account["CreationDate"])
    assert len(balance.breakdown) == len(account["Details"])
    for share, detail in zip(balance.breakdown, account["Details"], strict=True):
        assert share.amount.amount.as_tuple() == Decimal(json_text(detail["Amount"])).as_tuple()
        assert share.units.as_tuple() == Decimal(json_text(detail["AmountCuota"])).as_tuple()
        assert share.employer.name == detail["EmployerName"]
        assert share.employer.tax_id_valid == bool(rut.is_valid(detail["EmployerId"]))


@settings(max_examples=EXAMPLES)
@given(body=bodies.afc_contribution_bodies())
def test_one_contribution_per_paid_contribution(body: Any) -> None:
    with AfcConnector(**SETTINGS) as conn:
        result = conn.parse("contributions", json_text(body))
    raw_items = [] if body["Data"] is None else body["Data"]["PaidContributions"]
    assert len(result) == len(raw_items)
    for record, item in zip(result, raw_items, strict=True):
        assert record.period == item["ContributionDate"]
        assert record.paid_on == date.fromisoformat(item["PaymentDate"])
        assert _same_digits(record.taxable_income.amount, item["TaxableIncome"])
        assert record.taxable_income.amount == Decimal(json_text(item["TaxableIncome"]))
        assert record.amount.amount == Decimal(json_text(item["TaxedAmount"]))
        assert record.amount.amount.as_tuple() == Decimal(json_text(item["TaxedAmount"])).as_tuple()


@settings(max_examples=EXAMPLES)
@given(body=bodies.bank_balance_bodies())
def test_one_balance_per_entry_debit_negative_offset_kept(body: Any) -> None:
    with BancoSecurityConnector(**SETTINGS) as conn:
        result = conn.parse("balance", json_text(body))
    entries = [] if body["Data"] is None else body["Data"]["Balance"]
    assert len(result) == len(entries)
    for balance, entry in zip(result, entries, strict=True):
        amount, raw_amount = balance.amount.amount, entry["Amount"]["Amount"]
        assert _same_digits(amount, raw_amount)
        assert (amount < 0) == (entry["CreditDebitIndicator"] == "Debit" and amount != 0)
        assert not (amount.is_zero() and amount.is_signed()), "a zero must never read -0"
        assert balance.amount.currency == entry["Amount"]["Currency"]
        assert balance.account_id == entry["AccountId"]
        assert balance.provider_kind == entry["Type"]
        assert balance.kind is KINDS.get(entry["Type"], BalanceKind.OTHER)
        if isinstance(balance.as_of, datetime):
            assert balance.as_of.utcoffset() == _written_offset(entry["DateTime"])
            assert balance.as_of == datetime.fromisoformat(entry["DateTime"])
        else:
            assert balance.as_of == date.fromisoformat(entry["DateTime"])


@settings(max_examples=EXAMPLES)
@given(body=bodies.bank_loan_bodies())
def test_one_loan_per_entry_number_kept_exactly(body: Any) -> None:
    with BancoSecurityConnector(**SETTINGS) as conn:
        result = conn.parse("loans", json_text(body))
    entries = [] if body["Data"] is None else body["Data"]["Loan"]
    assert len(result) == len(entries)
    for loan, entry in zip(result, entries, strict=True):
        assert loan.loan_id == entry["LoanNumber"]
        assert (
            loan.outstanding.amount.as_tuple()
            == Decimal(json_text(entry["Balance"]["Amount"])).as_tuple()
        )
        granted = entry.get("GrantedAmount")
        if granted is None:
            assert loan.granted is None
        else:
            assert loan.granted is not None
            assert (
                loan.granted.amount.as_tuple() == Decimal(json_text(granted["Amount"])).as_tuple()
            )
        detail = entry["InstalmentDetail"]
        assert loan.current_instalment == detail["CurrentInstalmentNumber"]
        assert loan.instalments_total == detail["InstalmentsNumber"]
