"""Mappings: the documentation's own examples, the generic harness, Khipu-specific properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from caudal import (
    BalanceKind,
    Connector,
    ProviderError,
    RetryAdvice,
    registry,
)
from caudal.testing import conformance_suite
from caudal_khipu.afc import AfcConnector
from caudal_khipu.bancosecurity import KINDS, BancoSecurityConnector, signed
from caudal_khipu.emulator import emulator

from . import examples
from . import strategies as bodies

SETTINGS = {"base_url": "http://127.0.0.1:9", "api_key": "k"}
EXAMPLES = 120


# -- provider-specific expectations (the documentation's examples are golden examples) -------


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


# -- the core's conformance suite (declared provenance, golden examples), per connector -------

BODIES = {
    ("afc.cl", "balance"): bodies.afc_balance_bodies(),
    ("afc.cl", "contributions"): bodies.afc_contribution_bodies(),
    ("bancosecurity.cl", "balance"): bodies.bank_balance_bodies(),
    ("bancosecurity.cl", "loans"): bodies.bank_loan_bodies(),
}
"""The raw-body strategy of every capability (also used by tests/plugins/test_mutants.py)."""


def suite_arguments(name: str) -> dict[str, Any]:
    """The keyword arguments of `conformance_suite` for one connector."""
    caps = sorted(c for n, c in BODIES if n == name)
    return {
        "bodies": {c: BODIES[(name, c)] for c in caps},
        "examples": {c: examples.GOLDEN[(name, c)] for c in caps},
        "settings": SETTINGS,
        "max_examples": EXAMPLES,
    }


TestAfcConformance = conformance_suite(AfcConnector, emulator(), **suite_arguments("afc.cl"))
TestBancoSecurityConformance = conformance_suite(
    BancoSecurityConnector, emulator(), **suite_arguments("bancosecurity.cl")
)
