"""Belvo OFDA accounts and transactions -> canonical `Account` and `Transaction` records.

Transactions. Belvo's `amount` is never negative; its `type` says the direction:

    INFLOW  -> direction inflow,  amount as sent (positive)
    OUTFLOW -> direction outflow, amount negated
    null    -> direction unknown, amount as sent: caudal never guesses a sign
    (any other word: unknown too, the word kept in `provider_direction`)

`status` PROCESSED -> booked, PENDING -> pending, anything else (UNCATEGORIZED and null, both
deprecated) -> unknown, the word kept in `provider_status`. `transacted_at` is kept as sent
(UTC, milliseconds); Belvo says some banks send only midnight (`T00:00:00.000Z`) for older
transactions: that is kept too, `value_date` is the day. The counterparty's `document_number`
is a CPF for an INDIVIDUAL and a CNPJ for a COMPANY (by its length, 11 or 14, when the type is
null); its check digit is checked and flagged, never a reason to drop the transaction. `mcc` is
written as four digits. The currency is the transaction's, else its account's.

Accounts. `category` maps to the canonical one (CHECKING_ACCOUNT checking, SAVINGS_ACCOUNT
savings, CREDIT_CARD credit_card, LOAN_ACCOUNT / FINANCING_ACCOUNT / INVOICE_FINANCING_ACCOUNT /
ADVANCE_DEPOSIT_ACCOUNT loan, INVESTMENT_ACCOUNT investment, PENSION_FUND_ACCOUNT pension,
anything else other), Belvo's word kept. The `current` balance is signed by `balance_type`
(ASSET positive, LIABILITY negative: a loan's current is what is owed); `available`, `blocked`
and `automatically_invested` are kept as sent (for a card, `available` is the credit still
available; for a loan, the payoff amount), each a separate figure, never parts of a sum. Every
balance is `as_of` the account's `collected_at`.

Records are built with `caudal.model.builder` from values the raw models validated (caudal's
own tests build each also the validated way and compare, see `verify_trusted`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from caudal import (
    Account,
    AccountCategory,
    Balance,
    BalanceKind,
    Call,
    Money,
    Party,
    Reply,
    Result,
    TaxScheme,
    Transaction,
    TransactionDirection,
    TransactionStatus,
)
from caudal.mapping import decode, detach_list, map_items, stream_items, stream_list, validate_data
from caudal.model import BankAccountRef, CardDetails, Counterparty, Overdraft, builder
from caudal.provenance import Provenance, Sign, as_is, derived, ignored, kind, money

from .raw_ofda import RawAccount, RawCounterparty, RawCreditCardData, RawPage, RawTransaction

__all__ = [
    "ACCOUNTS_PROVENANCE",
    "CATEGORIES",
    "TRANSACTIONS_PROVENANCE",
    "account_of",
    "next_link",
    "read_accounts",
    "read_transactions",
    "transaction_of",
]

ACCOUNT = TypeAdapter(RawAccount)
TRANSACTION = TypeAdapter(RawTransaction)
ACCOUNTS_PAGE = TypeAdapter(RawPage[RawAccount])
TRANSACTIONS_PAGE = TypeAdapter(RawPage[RawTransaction])

NEXT = "next"
"""The key of a page's `references` that holds Belvo's link to the next page."""

CATEGORIES: dict[str, AccountCategory] = {
    "CHECKING_ACCOUNT": AccountCategory.CHECKING,
    "SAVINGS_ACCOUNT": AccountCategory.SAVINGS,
    "CREDIT_CARD": AccountCategory.CREDIT_CARD,
    "LOAN_ACCOUNT": AccountCategory.LOAN,
    "FINANCING_ACCOUNT": AccountCategory.LOAN,
    "INVOICE_FINANCING_ACCOUNT": AccountCategory.LOAN,
    "ADVANCE_DEPOSIT_ACCOUNT": AccountCategory.LOAN,
    "INVESTMENT_ACCOUNT": AccountCategory.INVESTMENT,
    "PENSION_FUND_ACCOUNT": AccountCategory.PENSION,
}
DIRECTIONS = {"INFLOW": TransactionDirection.INFLOW, "OUTFLOW": TransactionDirection.OUTFLOW}
STATUSES = {"PROCESSED": TransactionStatus.BOOKED, "PENDING": TransactionStatus.PENDING}
SCHEMES = {"INDIVIDUAL": TaxScheme.BR_CPF, "COMPANY": TaxScheme.BR_CNPJ}
SCHEME_BY_LENGTH = {11: TaxScheme.BR_CPF, 14: TaxScheme.BR_CNPJ}

_MONEY = builder(Money, "amount", "currency")
_BANK_ACCOUNT = builder(BankAccountRef, "bank_code", "agency", "number", "check_digit")
_COUNTERPARTY = builder(Counterparty, "party", "provider_type", "account")
_CARD = builder(
    CardDetails,
    "card_number",
    "bill_id",
    "bill_name",
    "bill_due_on",
    "bill_amount",
    "instalment",
    "instalments_total",
    "fee_type",
    "credit_type",
)
_OVERDRAFT = builder(Overdraft, "limit", "used", "used_beyond_limit")
_BALANCE = builder(Balance, "account_id", "kind", "provider_kind", "amount", "as_of")
_TRANSACTION = builder(
    Transaction,
    "transaction_id",
    "account_id",
    "amount",
    "direction",
    "provider_direction",
    "status",
    "provider_status",
    "value_date",
    "transacted_at",
    "accounting_date",
    "description",
    "local_amount",
    "counterparty",
    "payment_type",
    "operation_type",
    "mcc",
    "category",
    "subcategory",
    "merchant",
    "card",
    "references",
)


def _out(value: Decimal) -> Decimal:
    """Money that left: negated, digit for digit; a zero stays a plain zero (never `-0.00`)."""
    return value.copy_negate() if value else value


def _stamp(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _kept(values: dict[str, Any]) -> dict[str, str]:
    """References: Belvo's values that have no canonical field, as strings, nulls left out."""
    return {
        k: v if isinstance(v, str) else v.isoformat() for k, v in values.items() if v is not None
    }


# -- transactions ---------------------------------------------------------------------------------


def _counterparty(raw: RawCounterparty) -> Counterparty | None:
    party = None
    if raw.document_number:
        scheme = SCHEMES.get(raw.type or "") or SCHEME_BY_LENGTH.get(len(raw.document_number))
        if scheme is not None:
            party = Party.of(scheme, raw.document_number)
    account = None
    if any(v is not None for v in (raw.clearing_code, raw.agency, raw.number, raw.check_digit)):
        account = _BANK_ACCOUNT(raw.clearing_code, raw.agency, raw.number, raw.check_digit)
    if party is None and account is None and raw.type is None:
        return None
    return _COUNTERPARTY(party=party, provider_type=raw.type, account=account)


def _card(raw: RawCreditCardData, currency: str) -> CardDetails:
    bill = raw.credit_card_bill
    return _CARD(
        card_number=raw.card_number,
        bill_id=bill.id if bill is not None else None,
        bill_name=raw.bill_name,
        bill_due_on=raw.bill_due_date,
        bill_amount=_MONEY(raw.bill_amount, currency) if raw.bill_amount is not None else None,
        instalment=raw.installment_identifier,
        instalments_total=raw.number_of_installments,
        fee_type=raw.fee_type,
        credit_type=raw.credits_type,
    )


def _iso(moment: datetime) -> str:
    """ISO 8601 text of a timestamp; cached, since a page's records share a few of them.

    Keyed by the offset too: equal instants at other offsets are equal datetimes (same hash),
    and each must keep its own offset (`01:00+03:45` is not `00:00+02:45`)."""
    return _iso_at(moment, moment.utcoffset())


@lru_cache(maxsize=4096)
def _iso_at(moment: datetime, offset: Any) -> str:
    return moment.isoformat()


def _transaction_references(raw: RawTransaction) -> dict[str, str]:
    """Belvo's values without a canonical field, as strings (built without a generic helper:
    this runs once per transaction)."""
    refs: dict[str, str] = {}
    if raw.internal_identification is not None:
        refs["internal_identification"] = raw.internal_identification
    refs["collected_at"] = _iso(raw.collected_at)
    refs["created_at"] = _iso(raw.created_at)
    if raw.inferred_accounting_date is not None:
        refs["inferred_accounting_date"] = raw.inferred_accounting_date.isoformat()
    if raw.operation_type_additional_info is not None:
        refs["operation_type_additional_info"] = raw.operation_type_additional_info
    counterparty = raw.counterparty
    if counterparty is not None and counterparty.document_number:
        document = counterparty.document_number
        if not SCHEMES.get(counterparty.type or "") and len(document) not in SCHEME_BY_LENGTH:
            refs["counterparty_document_number"] = document  # neither CPF nor CNPJ: as sent
    card = raw.credit_card_data
    if card is not None and card.bill_internal_identification is not None:
        refs["bill_internal_identification"] = card.bill_internal_identification
    return refs


def transaction_of(raw: RawTransaction) -> Transaction:
    """One Belvo transaction as a canonical one (see the module's notes)."""
    account = raw.account
    currency = raw.currency or (account.currency if account is not None else None)
    if currency is None:
        raise ValueError("no currency: neither the transaction's nor its account's")
    direction = DIRECTIONS.get(raw.type or "", TransactionDirection.UNKNOWN)
    amount = _out(raw.amount) if direction is TransactionDirection.OUTFLOW else raw.amount
    local = raw.local_currency_amount
    if local is not None and direction is TransactionDirection.OUTFLOW:
        local = _out(local)
    card = raw.credit_card_data
    merchant = raw.merchant
    return _TRANSACTION(
        transaction_id=raw.id,
        account_id=account.id if account is not None else None,
        amount=_MONEY(amount, currency),
        direction=direction,
        provider_direction=raw.type,
        status=STATUSES.get(raw.status or "", TransactionStatus.UNKNOWN),
        provider_status=raw.status,
        value_date=raw.value_date,
        transacted_at=raw.transacted_at,
        accounting_date=raw.accounting_date,
        description=raw.description,
        local_amount=_MONEY(local, "BRL") if local is not None else None,
        counterparty=_counterparty(raw.counterparty) if raw.counterparty is not None else None,
        payment_type=raw.payment_type,
        operation_type=raw.operation_type,
        mcc=f"{raw.mcc:04d}" if raw.mcc is not None else None,
        category=raw.category,
        subcategory=raw.subcategory,
        merchant=merchant.merchant_name if merchant is not None else None,
        card=_card(card, currency) if card is not None else None,
        references=_transaction_references(raw),
    )


# -- accounts -------------------------------------------------------------------------------------


def _balances(raw: RawAccount) -> tuple[Balance, ...]:
    owed = raw.balance_type == "LIABILITY"
    figures: list[tuple[str, BalanceKind, Decimal | None]] = [
        ("current", BalanceKind.BOOKED, raw.balance.current),
        ("available", BalanceKind.AVAILABLE, raw.balance.available),
        ("blocked", BalanceKind.BLOCKED, raw.balance.blocked),
        ("automatically_invested", BalanceKind.INVESTED, raw.balance.automatically_invested),
    ]
    return tuple(
        _BALANCE(
            account_id=raw.id,
            kind=kind,
            provider_kind=key,
            amount=_MONEY(_out(value) if owed and key == "current" else value, raw.currency),
            as_of=raw.collected_at,
        )
        for key, kind, value in figures
        if value is not None
    )


def _money_or_none(value: Decimal | None, currency: str) -> Money | None:
    return None if value is None else _MONEY(value, currency)


def account_of(raw: RawAccount) -> Account:
    """One Belvo account as a canonical one (see the module's notes)."""
    currency = raw.currency
    overdraft = raw.overdraft
    credit = raw.credit_data
    return Account(
        account_id=raw.id,
        institution=raw.institution.name,
        category=CATEGORIES.get(raw.category or "", AccountCategory.OTHER),
        provider_category=raw.category,
        name=raw.name,
        number=raw.number,
        agency=raw.agency,
        check_digit=raw.check_digit,
        currency=currency,
        balances=_balances(raw),
        overdraft=_OVERDRAFT(
            limit=_money_or_none(overdraft.arranged, currency),
            used=_money_or_none(overdraft.used, currency),
            used_beyond_limit=_money_or_none(overdraft.unarranged, currency),
        )
        if overdraft is not None
        else None,
        credit_limit=_money_or_none(credit.credit_limit, currency) if credit else None,
        references=_kept(
            {
                "link": raw.link,
                "internal_identification": raw.internal_identification,
                "institution_type": raw.institution.type,
                "balance_type": raw.balance_type,
                "type": raw.type,
                "subtype": raw.subtype,
                "public_identification_name": raw.public_identification_name,
                "public_identification_value": raw.public_identification_value,
                "collected_at": raw.collected_at,
                "created_at": raw.created_at,
                "last_accessed_at": raw.last_accessed_at,
                "card_network": credit.network if credit else None,
                "bill_cutting_date": credit.cutting_date if credit else None,
                "minimum_payment": str(credit.minimum_payment)
                if credit and credit.minimum_payment is not None
                else None,
            }
        ),
    )


# -- declared provenance (checked by caudal's test kit, shown on the connector's page) ---------

BALANCE_FIGURES: tuple[tuple[str, BalanceKind], ...] = (
    ("current", BalanceKind.BOOKED),
    ("available", BalanceKind.AVAILABLE),
    ("blocked", BalanceKind.BLOCKED),
    ("automatically_invested", BalanceKind.INVESTED),
)
"""Belvo's key for each balance figure (kept as `provider_kind`) and its canonical kind."""

OWED = Sign("balance_type", negative="LIABILITY", positive="ASSET")
DIRECTION = Sign("type", negative="OUTFLOW", positive="INFLOW")
ACCOUNT_REFERENCES = (
    ("link", "link"),
    ("internal_identification", "internal_identification"),
    ("institution.type", "institution_type"),
    ("balance_type", "balance_type"),
    ("type", "type"),
    ("subtype", "subtype"),
    ("public_identification_name", "public_identification_name"),
    ("public_identification_value", "public_identification_value"),
    ("collected_at", "collected_at"),
    ("created_at", "created_at"),
    ("last_accessed_at", "last_accessed_at"),
    ("credit_data.network", "card_network"),
    ("credit_data.cutting_date", "bill_cutting_date"),
    ("credit_data.minimum_payment", "minimum_payment"),
)
"""Belvo's values kept in `Account.references` (raw path, key), nulls left out."""

ACCOUNTS_PROVENANCE = Provenance(
    "accounts",
    raw=list[RawAccount],
    items="$[*]",
    maps=(
        as_is("id", "account_id"),
        as_is("institution.name", "institution"),
        kind("category", "category", CATEGORIES, default=AccountCategory.OTHER),
        as_is("category", "provider_category"),
        as_is("name", "name"),
        as_is("number", "number"),
        as_is("agency", "agency"),
        as_is("check_digit", "check_digit"),
        as_is("currency", "currency"),
        # One balance per figure Belvo sends (a null figure gives none); the selector names
        # the balance by its provider_kind and by its kind, so both are checked.
        *(
            money(
                f"balance.{key}",
                f"balances[{selector}].amount",
                currency_from="currency",
                sign=OWED if key == "current" else None,
            )
            for key, figure in BALANCE_FIGURES
            for selector in (f"provider_kind={key}", f"kind={figure.value}")
        ),
        as_is("id", "balances[*].account_id"),
        as_is("collected_at", "balances[*].as_of"),
        money("overdraft.arranged", "overdraft.limit", currency_from="currency"),
        money("overdraft.used", "overdraft.used", currency_from="currency"),
        money("overdraft.unarranged", "overdraft.used_beyond_limit", currency_from="currency"),
        money("credit_data.credit_limit", "credit_limit", currency_from="currency"),
        *(as_is(path, f"references.{key}") for path, key in ACCOUNT_REFERENCES),
    ),
    ignored=(
        ignored(
            "credit_data.collected_at",
            "when Belvo read the card data; every figure is as of the account's collected_at",
        ),
    ),
)

TRANSACTIONS_PROVENANCE = Provenance(
    "transactions",
    raw=list[RawTransaction],
    items="$[*]",
    maps=(
        as_is("id", "transaction_id"),
        as_is("account.id", "account_id"),
        money(
            "amount",
            "amount",
            currency_from="currency",
            currency_else="account.currency",
            sign=DIRECTION,
        ),
        kind("type", "direction", DIRECTIONS, default=TransactionDirection.UNKNOWN),
        as_is("type", "provider_direction"),
        kind("status", "status", STATUSES, default=TransactionStatus.UNKNOWN),
        as_is("status", "provider_status"),
        as_is("value_date", "value_date"),
        as_is("transacted_at", "transacted_at"),
        as_is("accounting_date", "accounting_date"),
        as_is("description", "description"),
        money("local_currency_amount", "local_amount", currency="BRL", sign=DIRECTION),
        derived(
            "counterparty.document_number",
            "counterparty",
            "the counterparty's party: a CPF (br.cpf) for an INDIVIDUAL, a CNPJ (br.cnpj) for a "
            "COMPANY, by its length (11 or 14) when the type is another word or null; "
            "normalized, its check digit flagged; none for an empty one",
        ),
        derived(
            "counterparty.document_number",
            "references.counterparty_document_number",
            "kept as sent when it is neither a CPF nor a CNPJ (by type or length)",
        ),
        derived(
            "counterparty.type",
            "counterparty.party",
            "chooses the document's scheme (INDIVIDUAL br.cpf, COMPANY br.cnpj)",
        ),
        derived(
            "counterparty.type",
            "references.counterparty_document_number",
            "a document of another type and length is kept there",
        ),
        as_is("counterparty.type", "counterparty.provider_type"),
        as_is("counterparty.clearing_code", "counterparty.account.bank_code"),
        as_is("counterparty.agency", "counterparty.account.agency"),
        as_is("counterparty.number", "counterparty.account.number"),
        as_is("counterparty.check_digit", "counterparty.account.check_digit"),
        as_is("payment_type", "payment_type"),
        as_is("operation_type", "operation_type"),
        as_is("mcc", "mcc"),
        as_is("category", "category"),
        as_is("subcategory", "subcategory"),
        as_is("merchant.merchant_name", "merchant"),
        as_is("credit_card_data.card_number", "card.card_number"),
        as_is("credit_card_data.credit_card_bill.id", "card.bill_id"),
        as_is("credit_card_data.bill_name", "card.bill_name"),
        as_is("credit_card_data.bill_due_date", "card.bill_due_on"),
        money(
            "credit_card_data.bill_amount",
            "card.bill_amount",
            currency_from="currency",
            currency_else="account.currency",
        ),
        as_is("credit_card_data.installment_identifier", "card.instalment"),
        as_is("credit_card_data.number_of_installments", "card.instalments_total"),
        as_is("credit_card_data.fee_type", "card.fee_type"),
        as_is("credit_card_data.credits_type", "card.credit_type"),
        as_is("internal_identification", "references.internal_identification"),
        as_is("collected_at", "references.collected_at"),
        as_is("created_at", "references.created_at"),
        as_is("inferred_accounting_date", "references.inferred_accounting_date"),
        as_is("operation_type_additional_info", "references.operation_type_additional_info"),
        as_is(
            "credit_card_data.bill_internal_identification",
            "references.bill_internal_identification",
        ),
    ),
    ignored=(
        ignored(
            "credit_card_data.collected_at",
            "when Belvo read the card data; the transaction's own collected_at is kept",
        ),
        ignored(
            "credit_card_data.credit_card_bill.internal_identification",
            "the bill is identified by its id (card.bill_id) and by "
            "credit_card_data.bill_internal_identification (kept in references)",
        ),
    ),
)


# -- bodies ---------------------------------------------------------------------------------------


def _read(
    reply: Reply,
    call: Call[Any],
    item: TypeAdapter[Any],
    page: TypeAdapter[Any],
    build: Callable[[Any], Any],
) -> Result[Any]:
    """A bare array (a fetch: POST or PATCH) or a page (`GET`, `{count, next, results}`).

    The items are validated one at a time as their records are built (`stream_items`).
    """
    data = decode(reply.body, call)
    references: dict[str, str] = {}
    if isinstance(data, dict):
        results = detach_list(data, ("results",))
        listed = validate_data(page, data, call, detached=results)
        raws, path = stream_items(results, item, call, "$.results"), "$.results"
        if listed.next:
            references[NEXT] = listed.next
        if listed.count is not None:
            references["count"] = str(listed.count)
    else:
        raws, path = stream_list(data, item, call), "$"
    del data
    items = map_items(raws, build, call, path)
    return Result[Any](
        connector=call.connector,
        capability=call.capability,
        items=tuple(items),
        references=references,
        raw=reply.body.decode("utf-8") if call.keep_raw else None,
    )


def read_accounts(reply: Reply, call: Call[Any]) -> Result[Account]:
    """An accounts body (an array, or a page of them) -> one Result."""
    return _read(reply, call, ACCOUNT, ACCOUNTS_PAGE, account_of)


def read_transactions(reply: Reply, call: Call[Any]) -> Result[Transaction]:
    """A transactions body (an array, or a page of them) -> one Result."""
    return _read(reply, call, TRANSACTION, TRANSACTIONS_PAGE, transaction_of)


def next_link(result: Result[Any], call: Call[Any]) -> str | None:
    """The page after `result`, as Belvo linked it (None after the last page or a fetch)."""
    return result.references.get(NEXT)
