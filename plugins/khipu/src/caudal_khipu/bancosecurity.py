"""bancosecurity.cl: Banco Security (Chile), through Khipu.

- `balance` (business current account): one Balance per raw entry. `Type` gives the kind
  (ClosingAvailable -> available, ClosingBooked -> booked, Withheld -> blocked, anything else
  -> other, Khipu's word kept in `provider_kind`); a Debit is a negative amount; the time keeps
  its UTC offset.
- `loans` (personal): one Loan per raw entry; `LoanNumber` kept as the exact string.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

import caudal
from caudal import Balance, BalanceKind, Call, Loan, Money, Operation
from caudal.mapping import map_items
from caudal.model import CurrencyCode, builder
from caudal.provenance import Sign, as_is, kind, money

from . import raw
from .base import Endpoint, KhipuConnector, KhipuParams, khipu_provenance

__all__ = [
    "BALANCE",
    "BALANCE_PROVENANCE",
    "KINDS",
    "LOANS",
    "LOANS_PROVENANCE",
    "BalanceParams",
    "BancoSecurityConnector",
    "LoansParams",
]

KINDS: dict[str, BalanceKind] = {
    "ClosingAvailable": BalanceKind.AVAILABLE,
    "ClosingBooked": BalanceKind.BOOKED,
    "Withheld": BalanceKind.BLOCKED,
}
"""Khipu balance `Type` -> canonical kind; any other type maps to `other`, its name kept."""


# -- balance -----------------------------------------------------------------------------------


class BalanceParams(KhipuParams):
    """Which account: its number (a string, leading zeros matter) and, if needed, its currency."""

    account_number: Annotated[str, Field(min_length=1)]
    currency: CurrencyCode | None = None

    def request_fields(self) -> dict[str, Any]:
        return {"AccountNumber": self.account_number, "Currency": self.currency}


def signed(amount: Decimal, indicator: Literal["Credit", "Debit"]) -> Decimal:
    """The signed amount: Khipu's amounts are unsigned, the sign is `CreditDebitIndicator`.

    Negation is `copy_negate`, which is exact; unary minus rounds to the decimal context's 28
    digits. A zero is a zero whatever the indicator (UK Open Banking counts it as Credit), so no
    `-0` ever reaches the host app.
    """
    if amount.is_zero():
        return amount.copy_abs()
    return amount.copy_negate() if indicator == "Debit" else amount


# The raw models validated every value; the records are built without validating again.
_MONEY = builder(Money, "amount", "currency")
_BALANCE = builder(Balance, "account_id", "kind", "provider_kind", "amount", "as_of")
_LOAN = builder(
    Loan,
    "loan_id",
    "outstanding",
    "granted",
    "granted_on",
    "due_on",
    "current_instalment",
    "instalments_total",
)


def _balance(entry: raw.BankBalance) -> Balance:
    amount = entry.Amount
    return _BALANCE(
        account_id=entry.AccountId,
        kind=KINDS.get(entry.Type, BalanceKind.OTHER),
        provider_kind=entry.Type,
        amount=_MONEY(signed(amount.Amount, entry.CreditDebitIndicator), amount.Currency),
        as_of=entry.DateTime,
    )


def balance_records(
    data: raw.BankBalancesData, entries: Iterable[raw.BankBalance], call: Call[Any]
) -> list[Balance]:
    """One Balance per raw `Balance` entry, in Khipu's order."""
    return map_items(entries, _balance, call, "$.Data.Balance")


BALANCE = Endpoint(
    path="/v1/cl/banking/business/bancosecurity.cl/current/balances",
    params=BalanceParams,
    body=raw.RequestBody[raw.CurrentBalancesRequestData],
    data=raw.BankBalancesData,
    items=("Balance",),
    records=balance_records,
)


# -- loans -------------------------------------------------------------------------------------


class LoansParams(KhipuParams):
    """bancosecurity.cl loans takes only the end user's credential."""


def _loan(entry: raw.BankLoan) -> Loan:
    granted = entry.GrantedAmount
    return _LOAN(
        loan_id=entry.LoanNumber,
        outstanding=_MONEY(entry.Balance.Amount, entry.Balance.Currency),
        granted=None if granted is None else _MONEY(granted.Amount, granted.Currency),
        granted_on=entry.GrantDate,
        due_on=entry.DueDate,
        current_instalment=entry.InstalmentDetail.CurrentInstalmentNumber,
        instalments_total=entry.InstalmentDetail.InstalmentsNumber,
    )


def loan_records(
    data: raw.LoansData, entries: Iterable[raw.BankLoan], call: Call[Any]
) -> list[Loan]:
    """One Loan per raw `Loan` entry, in Khipu's order."""
    return map_items(entries, _loan, call, "$.Data.Loan")


LOANS = Endpoint(
    path="/v1/cl/banking/personal/bancosecurity.cl/products/loans",
    params=LoansParams,
    body=raw.RequestBody[raw.LoansRequestData],
    data=raw.LoansData,
    items=("Loan",),
    records=loan_records,
)


# -- declared provenance (checked by caudal's test kit, shown on the connector's page) ---------

BALANCE_PROVENANCE = khipu_provenance(
    "balance",
    raw.BankBalancesData,
    "$.Data.Balance[*]",
    (
        as_is("AccountId", "account_id"),
        kind("Type", "kind", KINDS, default=BalanceKind.OTHER),
        as_is("Type", "provider_kind"),
        money(
            "Amount.Amount",
            "amount",
            currency_from="Amount.Currency",
            sign=Sign("CreditDebitIndicator", negative="Debit", positive="Credit"),
        ),
        as_is("DateTime", "as_of"),
    ),
)

LOANS_PROVENANCE = khipu_provenance(
    "loans",
    raw.LoansData,
    "$.Data.Loan[*]",
    (
        as_is("LoanNumber", "loan_id"),
        money("Balance.Amount", "outstanding", currency_from="Balance.Currency"),
        money(
            "GrantedAmount.Amount",
            "granted",
            currency_from="GrantedAmount.Currency",
            optional="GrantedAmount",
        ),
        as_is("GrantDate", "granted_on"),
        as_is("DueDate", "due_on"),
        as_is("InstalmentDetail.CurrentInstalmentNumber", "current_instalment"),
        as_is("InstalmentDetail.InstalmentsNumber", "instalments_total"),
    ),
)


class BancoSecurityConnector(KhipuConnector):
    """Banco Security (Chile): business current-account balances and personal loans, via Khipu."""

    name = "bancosecurity.cl"
    title = "Banco Security via Khipu"
    provenance = (BALANCE_PROVENANCE, LOANS_PROVENANCE)

    @caudal.capability("balance")
    def balance_operation(self) -> Operation[BalanceParams]:
        """Current balances of one business account."""
        return self.khipu_operation(BALANCE)

    @caudal.capability("loans")
    def loans_operation(self) -> Operation[LoansParams]:
        """Every personal loan the end user holds at the bank."""
        return self.khipu_operation(LOANS)
