"""Hypothesis strategies of Khipu bodies, derived from the raw models by caudal's test kit.

Only what a type cannot say is given here: Status OK (an ERROR body is not a result), offsets
written without a colon, unsigned OBIE amounts, RUTs, JSON integers for CLP, and very long
amounts (a 30-digit amount catches any arithmetic that rounds to the decimal context).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from caudal.testing import strategies as cs
from caudal_khipu import raw
from caudal_khipu.bancosecurity import KINDS

DOCS_RUT = "11.222.333-4"


def long_amounts() -> st.SearchStrategy[Decimal]:
    """Unsigned amounts of 30 to 32 digits, built from text (exact, no context rounding); at
    most 32 before the point (caudal refuses more: `MAX_INTEGER_DIGITS`)."""
    return st.builds(
        lambda digits, places: Decimal(f"{digits}E-{places}"),
        st.integers(10**29, 10**32 - 1),
        st.integers(0, 8),
    )


def unsigned() -> st.SearchStrategy[Any]:
    """What Khipu may write for an OBIE amount: integers, decimals with trailing zeros, long."""
    return st.one_of(
        st.integers(0, 10**15),
        cs.amounts(signed=False, extra_places=4),
        long_amounts(),
    )


def clp() -> st.SearchStrategy[Any]:
    """AFC amounts: whole pesos as JSON integers, or decimals whose fraction is zero (`100.00`);
    a fractional peso is refused (Khipu documents integers)."""
    whole = st.builds(
        lambda pesos, zeros: Decimal(f"{pesos}.{'0' * zeros}"),
        st.integers(-(10**30), 10**30),
        st.integers(1, 4),
    )
    return st.one_of(st.integers(-(10**15), 10**15), whole)


def employer_ids() -> st.SearchStrategy[str]:
    """RUTs valid or not, the docs' example, and free text (a record is never dropped)."""
    return st.one_of(cs.ruts(), st.just(DOCS_RUT), st.text(max_size=12))


def balance_times() -> st.SearchStrategy[str]:
    """Balance date-times as Khipu writes them, and the other ISO spellings it may use."""
    dates = st.dates().map(lambda d: d.isoformat())
    return st.one_of(cs.datetimes(colon=False), cs.datetimes(colon=True), dates)


ENVELOPE = {
    "Status": st.just("OK"),
    "Error": st.none(),
    "LifeSpan": st.one_of(st.none(), cs.datetimes(colon=False)),
}


def _bodies(
    data: type[Any], overrides: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    # `Error` is left out of OK bodies: a forward-compatible ErrorDetail accepts any object.
    envelope: type[BaseModel] = raw.Envelope[data]  # type: ignore[valid-type]
    strategy = cs.from_model(envelope, {**ENVELOPE, **overrides})
    # `Data: null` is Khipu's "no data" (a no_data ProviderError, tested on its own), not a body
    # that maps to records.
    return strategy.filter(lambda body: body.get("Data") is not None).map(
        lambda body: {k: v for k, v in body.items() if k != "Error"}
    )


def afc_balance_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """200 bodies of afc.cl balance."""
    base = "Data.ContributionsBalance"
    return _bodies(
        raw.AfcBalanceData,
        {
            f"{base}.TotalBalance": clp(),
            f"{base}.Details.Amount": clp(),
            f"{base}.Details.EmployerId": employer_ids(),
        },
    )


def afc_contribution_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """200 bodies of afc.cl last-credited-contribution."""
    base = "Data.PaidContributions"
    return _bodies(
        raw.AfcContributionsData,
        {
            f"{base}.TaxableIncome": clp(),
            f"{base}.TaxedAmount": clp(),
            f"{base}.EmployerId": employer_ids(),
        },
    )


def bank_balance_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """200 bodies of bancosecurity.cl current balances, unknown balance types included."""
    return _bodies(
        raw.BankBalancesData,
        {
            "Data.Balance.DateTime": balance_times(),
            "Data.Balance.Amount.Amount": unsigned(),
            "Data.Balance.Type": st.one_of(st.sampled_from(sorted(KINDS)), st.text(max_size=16)),
        },
    )


def bank_loan_bodies() -> st.SearchStrategy[dict[str, Any]]:
    """200 bodies of bancosecurity.cl loans; LoanNumber with leading zeros too."""
    return _bodies(
        raw.LoansData,
        {
            "Data.Loan.Balance.Amount": unsigned(),
            "Data.Loan.GrantedAmount.Amount": unsigned(),
            "Data.Loan.LoanNumber": st.one_of(
                st.from_regex(r"0{0,3}[0-9]{1,10}", fullmatch=True), st.text(max_size=12)
            ),
        },
    )


BODIES = {
    ("afc.cl", "balance"): afc_balance_bodies,
    ("afc.cl", "contributions"): afc_contribution_bodies,
    ("bancosecurity.cl", "balance"): bank_balance_bodies,
    ("bancosecurity.cl", "loans"): bank_loan_bodies,
}
