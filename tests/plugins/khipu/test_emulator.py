"""The emulator's data: seeded from the raw models, realistic, reproducible, written like Khipu."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from stdnum.cl import rut

from caudal.mapping import load_json
from caudal.sandbox import Emulator
from caudal_khipu import raw, seeded
from caudal_khipu.emulator import CASES, ERROR_TYPES, emulator, error_envelope, khipu_json

SEEDS = [f"user{i}" for i in range(60)]


def test_same_seed_same_data_in_another_process() -> None:
    here = khipu_json(seeded.afc_balance("demo"))
    code = (
        "from caudal_khipu import seeded, emulator as e; "
        "print(e.khipu_json(seeded.afc_balance('demo')))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert here == there


def test_ruts_are_valid_except_the_docs_example() -> None:
    ids = [d.EmployerId for s in SEEDS for d in seeded.afc_balance(s).ContributionsBalance.Details]
    assert ids, "some seed must have employers"
    assert all(rut.is_valid(i) or i == seeded.DOCS_INVALID_RUT for i in ids)
    assert seeded.DOCS_INVALID_RUT in ids, "the docs' invalid RUT should show up sometimes"
    assert all("." in i and "-" in i for i in ids)


def test_afc_amounts_are_whole_clp_and_cuotas_have_decimals() -> None:
    for s in SEEDS:
        account = seeded.afc_balance(s).ContributionsBalance
        assert account.TotalBalance == sum(d.Amount for d in account.Details)
        for d in account.Details:
            assert d.Amount == d.Amount.to_integral_value()
            exponent = d.AmountCuota.as_tuple().exponent
            assert isinstance(exponent, int) and exponent <= -2


def test_empty_arrays_happen() -> None:
    assert any(not seeded.afc_balance(s).ContributionsBalance.Details for s in SEEDS)
    assert any(not seeded.bank_loans(s).Loan for s in SEEDS)
    assert not seeded.bank_balances("x", "1", None, empty=True).Balance


def test_bank_offsets_are_chilean_and_debits_happen() -> None:
    entries = [e for s in SEEDS for e in seeded.bank_balances(s, "11887755", None).Balance]
    offsets = {e.DateTime.utcoffset() for e in entries if isinstance(e.DateTime, datetime)}
    assert offsets == {timedelta(hours=-3), timedelta(hours=-4)}
    assert {e.CreditDebitIndicator for e in entries} == {"Credit", "Debit"}
    assert {"ClosingAvailable", "ClosingBooked", "Withheld"} <= {e.Type for e in entries}
    assert all(e.Amount.Amount >= 0 for e in entries)


def test_contributions_follow_the_period() -> None:
    items = seeded.afc_contributions("demo", "2023").PaidContributions
    assert items and all(i.ContributionDate.startswith("2023-") for i in items)
    for i in items:
        assert i.PaymentDate > datetime.strptime(i.ContributionDate, "%Y-%m").date()


def test_loan_numbers_are_strings_some_with_leading_zeros() -> None:
    numbers = [loan.LoanNumber for s in SEEDS for loan in seeded.bank_loans(s).Loan]
    assert any(n.startswith("0") for n in numbers)


def test_khipu_json_writes_numbers_and_offsets_like_khipu() -> None:
    text = khipu_json(seeded.bank_balances("demo", "1", "USD"))
    for entry in json.loads(text)["Balance"]:
        assert entry["DateTime"][-5:] in ("-0300", "-0400")
    body = load_json(text)
    assert raw.BankBalancesData.model_validate(body) == seeded.bank_balances("demo", "1", "USD")
    assert khipu_json({"a": Decimal("1.10"), "b": "ñ"}) == '{"a":1.10,"b":"ñ"}'
    with pytest.raises(ValueError, match="NaN"):
        khipu_json(Decimal("NaN"))


@pytest.mark.parametrize("kind", ERROR_TYPES)
def test_error_envelopes_validate(kind: str) -> None:
    envelope = error_envelope("op", "E201", kind)
    head = raw.Head.model_validate(load_json(khipu_json(envelope)))
    assert head.Status == "ERROR"
    assert head.Error is not None and head.Error.Type == kind


def test_emulator_describes_itself() -> None:
    made = emulator()
    assert isinstance(made, Emulator)
    assert made.name == "khipu"
    assert set(made.settings) == {"afc.cl", "bancosecurity.cl"}
    assert set(made.call_params["afc.cl"]) == {"balance", "contributions"}
    assert set(made.call_params["bancosecurity.cl"]) == {"balance", "loans"}
    for word in ("error-", "flaky-", "slow-", "http-", "broken", "empty", "nodata", "401"):
        assert any(word in text or word in case for case, text in CASES.items()), word
