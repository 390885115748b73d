"""Belvo's Open Finance Brasil ("OFDA") accounts and transactions, as pydantic models named
after its keys: `POST`/`GET`/`PATCH /api/accounts/` and `/api/transactions/`.

The same rules as `raw` (balances): unknown keys are ignored, a documented key missing, a wrong
type, a currency outside ISO 4217 or a date-time without an offset is a `MappingError` naming
its JSON path. Amounts are unsigned in Belvo's documentation (`^\\d{1,15}\\.\\d{2,4}$`; the
sign lives in `balance_type` or in the transaction `type`): a negative one is refused, since
applying the documented sign to it would flip it. Identifiers (account number, agency, bank
code, CPF/CNPJ) must be JSON strings: a number would already have lost its leading zeros.

Deliberately not modelled: `loan_data` (loan terms belong to the `loans` capability),
`funds_data` (always null for Open Finance), `merchant.logo` / `merchant.website`, the legacy
card fields Belvo documents as null for Open Finance.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from caudal.model import CurrencyCode, ExactDecimal, IsoDate, OffsetDateTime, UnsignedDecimal

__all__ = [
    "AccountsQuery",
    "AccountsRequest",
    "RawAccount",
    "RawAccountBalance",
    "RawAccountRef",
    "RawCardBill",
    "RawCounterparty",
    "RawCreditCardData",
    "RawCreditData",
    "RawInstitution",
    "RawMerchant",
    "RawOverdraft",
    "RawPage",
    "RawTransaction",
    "TransactionsQuery",
    "TransactionsRequest",
]

Timestamp = OffsetDateTime
T = TypeVar("T")


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# -- requests -------------------------------------------------------------------------------------


class AccountsRequest(_Raw):
    """Body of `POST /api/accounts/`. `save_data` absent: Belvo's default, true (201)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    save_data: bool | None = None


class TransactionsRequest(_Raw):
    """Body of `POST /api/transactions/`: a date range (`date_to` at most today), one account
    or all of the link's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    account: str | None = None
    date_from: IsoDate
    date_to: IsoDate
    save_data: bool | None = None


class AccountsQuery(_Raw):
    """Query of `GET /api/accounts/` as the connector sends it (Belvo has more filters)."""

    link: str | None = None
    page: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1, le=1000)


class TransactionsQuery(_Raw):
    """Query of `GET /api/transactions/` as the connector sends it; `link` is required here."""

    link: str = Field(min_length=1)
    account: str | None = None
    value_date__gte: IsoDate | None = None
    value_date__lte: IsoDate | None = None
    page: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1, le=1000)


# -- accounts -------------------------------------------------------------------------------------


class RawInstitution(_Raw):
    name: str
    type: str | None = None


class RawAccountBalance(_Raw):
    """`current`: checking/savings the balance at `collected_at`, a card the open cycle's
    spend, a loan what is still owed. `available`: usable funds (a card: limit minus current;
    a loan: the payoff amount)."""

    current: UnsignedDecimal | None
    available: UnsignedDecimal | None = None
    blocked: UnsignedDecimal | None = None
    automatically_invested: UnsignedDecimal | None = None


class RawOverdraft(_Raw):
    arranged: UnsignedDecimal | None
    used: UnsignedDecimal | None
    unarranged: UnsignedDecimal | None


class RawCreditData(_Raw):
    collected_at: Timestamp
    credit_limit: UnsignedDecimal | None = None
    cutting_date: IsoDate | None = None
    minimum_payment: UnsignedDecimal | None = None
    network: str | None = None


class RawAccount(_Raw):
    """One OFDA account."""

    id: str
    link: str | None
    institution: RawInstitution
    collected_at: Timestamp
    created_at: Timestamp
    last_accessed_at: Timestamp | None = None
    category: str | None
    balance_type: str | None
    type: str | None = None
    subtype: str | None = None
    name: str | None
    number: str | None
    agency: str | None
    check_digit: str | None
    currency: CurrencyCode
    public_identification_name: str | None = None
    public_identification_value: str | None = None
    internal_identification: str
    balance: RawAccountBalance
    overdraft: RawOverdraft | None = None
    credit_data: RawCreditData | None = None


# -- transactions ---------------------------------------------------------------------------------


class RawAccountRef(_Raw):
    """The account embedded in a transaction: only what the transaction needs of it (its id,
    its currency when the transaction has none); the rest is the accounts capability's."""

    id: str
    currency: CurrencyCode | None = None


class RawCounterparty(_Raw):
    type: str | None = None
    document_number: str | None = None
    clearing_code: str | None = None
    agency: str | None = None
    check_digit: str | None = None
    number: str | None = None


class RawMerchant(_Raw):
    merchant_name: str | None = None


class RawCardBill(_Raw):
    id: str | None = None
    internal_identification: str | None = None


class RawCreditCardData(_Raw):
    collected_at: Timestamp | None = None
    bill_name: str | None = None
    bill_due_date: IsoDate | None = None
    bill_internal_identification: str | None = None
    bill_amount: ExactDecimal | None = None
    card_number: str | None = None
    fee_type: str | None = None
    credits_type: str | None = None
    installment_identifier: str | None = None
    number_of_installments: int | None = None
    credit_card_bill: RawCardBill | None = None


class RawTransaction(_Raw):
    """One OFDA transaction. `amount` is never negative; `type` says in or out (or null)."""

    id: str
    internal_identification: str | None = None
    account: RawAccountRef | None
    collected_at: Timestamp
    created_at: Timestamp
    value_date: IsoDate
    transacted_at: Timestamp | None = None
    accounting_date: IsoDate | None
    inferred_accounting_date: IsoDate | None = None
    amount: UnsignedDecimal
    local_currency_amount: UnsignedDecimal | None = None
    currency: CurrencyCode | None
    description: str | None
    status: str | None
    type: str | None
    category: str | None = None
    subcategory: str | None = None
    merchant: RawMerchant | None = None
    counterparty: RawCounterparty | None = None
    payment_type: str | None = None
    operation_type: str | None = None
    operation_type_additional_info: str | None = None
    mcc: int | None = Field(default=None, ge=0, le=9999)
    credit_card_data: RawCreditCardData | None = None


class RawPage(_Raw, Generic[T]):
    """A `GET` list answer: `next` is an absolute URL (your query kept, `page=N` added) or
    null on the last page."""

    count: int | None = None
    next: str | None = None
    previous: str | None = None
    results: list[T]
