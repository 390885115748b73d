"""Accounts and their transactions, as Open Finance Brasil, UK Open Banking and Plaid know them.

Field choices were checked against UK Open Banking's `OBTransaction6` (TransactionId,
CreditDebitIndicator + unsigned Amount, Status Booked/Pending, BookingDateTime, ValueDateTime,
TransactionInformation, MerchantDetails.MerchantCategoryCode, CreditorAccount/DebtorAccount,
CardInstrument), Open Finance Brasil's `accounts` / `credit-cards-accounts` transactions
(creditDebitType, completedAuthorisedPaymentType, transactionDateTime, partieCnpjCpf,
partieCompeCode/BranchCode/Number/CheckDigit, billId, chargeIdentificator, chargeNumber) and
Plaid's `Transaction` (amount positive for money out, pending, authorized_date, date,
merchant_name, personal_finance_category). The canonical amount is SIGNED (money in positive,
money out negative), unlike all three: one number a host app can sum, with `direction` beside it
and the provider's own words kept.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import AwareDatetime, Field, model_validator

from ._money import CurrencyCode, Money
from ._party import Party
from ._records import Balance, Record

__all__ = [
    "Account",
    "AccountCategory",
    "BankAccountRef",
    "CardDetails",
    "Counterparty",
    "Overdraft",
    "Transaction",
    "TransactionDirection",
    "TransactionStatus",
]


class AccountCategory(StrEnum):
    """What kind of account it is. `other` keeps a provider category we do not map (the
    provider's word is in `Account.provider_category`)."""

    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    LOAN = "loan"
    INVESTMENT = "investment"
    PENSION = "pension"
    OTHER = "other"


class Overdraft(Record):
    """An account's overdraft: the agreed limit, what is used of it, what is used beyond it."""

    limit: Money | None = None
    used: Money | None = None
    used_beyond_limit: Money | None = None


class Account(Record):
    """One account of the holder at an institution.

    `number`, `agency` and `check_digit` are the institution's strings exactly (leading zeros
    kept). `balances` are the account's figures (signed: what the holder owes is negative);
    `credit_limit` is a card's or credit line's total limit.
    """

    account_id: str
    institution: str | None = None
    category: AccountCategory
    provider_category: str | None = None
    name: str | None = None
    number: str | None = None
    agency: str | None = None
    check_digit: str | None = None
    currency: CurrencyCode | None = None
    holder: Party | None = None
    balances: tuple[Balance, ...] = ()
    overdraft: Overdraft | None = None
    credit_limit: Money | None = None
    references: dict[str, str] = Field(default_factory=dict)


class TransactionDirection(StrEnum):
    """Money in or out of the account. `unknown`: the provider did not say, and caudal never
    guesses (the amount is then kept exactly as sent)."""

    INFLOW = "inflow"
    OUTFLOW = "outflow"
    UNKNOWN = "unknown"


class TransactionStatus(StrEnum):
    """`booked` (settled, final), `pending` (not settled: may still change or vanish).
    `unknown`: the provider sent no status or a deprecated one (its word is kept)."""

    BOOKED = "booked"
    PENDING = "pending"
    UNKNOWN = "unknown"


class BankAccountRef(Record):
    """Where an account is, as a payment names it: bank code, branch, number, check digit."""

    bank_code: str | None = None
    agency: str | None = None
    number: str | None = None
    check_digit: str | None = None


class Counterparty(Record):
    """The other side of a transaction, as far as the provider knows it.

    `party` when a tax id is given (CPF or CNPJ checked, a failing check digit flagged in
    `tax_id_valid`, never rejected); `provider_type` is the provider's word (individual,
    company).
    """

    party: Party | None = None
    provider_type: str | None = None
    account: BankAccountRef | None = None


class CardDetails(Record):
    """A card transaction's card, bill and instalment.

    `bill_*` are set once the bill is closed; `instalment` is the provider's identifier of this
    instalment and `instalments_total` the number of instalments of the purchase.
    """

    card_number: str | None = None
    bill_id: str | None = None
    bill_name: str | None = None
    bill_due_on: date | None = None
    bill_amount: Money | None = None
    instalment: str | None = None
    instalments_total: int | None = None
    fee_type: str | None = None
    credit_type: str | None = None


class Transaction(Record):
    """One movement of money on an account.

    `amount` is SIGNED: money in is positive, money out negative, whatever sign convention the
    provider uses; `direction` says the same in words, and is `unknown` (the amount as the
    provider sent it) when the provider does not say.

    Pending-mutable: while `status` is `pending`, the provider may still change `amount`,
    `description`, `transacted_at`, `value_date`, `accounting_date`, `counterparty`,
    `category` and `card`, or drop the transaction; some providers (Plaid) give the booked
    transaction a new `transaction_id`. Only a `booked` transaction is final.

    `transacted_at` keeps the provider's offset and sub-seconds; a provider that sends only
    a day sends midnight, which is a date, not a time (see the connector's page). `mcc` is
    the ISO 18245 merchant category code as four digits.
    """

    transaction_id: str
    account_id: str | None = None
    amount: Money
    direction: TransactionDirection
    provider_direction: str | None = None
    status: TransactionStatus
    provider_status: str | None = None
    value_date: date | None = None
    transacted_at: AwareDatetime | None = None
    accounting_date: date | None = None
    description: str | None = None
    local_amount: Money | None = None
    counterparty: Counterparty | None = None
    payment_type: str | None = None
    operation_type: str | None = None
    mcc: str | None = Field(default=None, pattern=r"^\d{4}$")
    category: str | None = None
    subcategory: str | None = None
    merchant: str | None = None
    card: CardDetails | None = None
    references: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sign_matches_direction(self) -> Self:
        # The one invariant a mapper most easily gets wrong (providers send unsigned amounts
        # with a separate indicator): an inflow is never negative, an outflow never positive.
        amount = self.amount.amount
        if (self.direction is TransactionDirection.INFLOW and amount < 0) or (
            self.direction is TransactionDirection.OUTFLOW and amount > 0
        ):
            raise ValueError(
                f"an {self.direction.value} must not be {'negative' if amount < 0 else 'positive'}"
            )
        return self
