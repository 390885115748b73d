"""The canonical model: what host apps see, whichever provider the data came from."""

from ._accounts import (
    Account,
    AccountCategory,
    BankAccountRef,
    CardDetails,
    Counterparty,
    Overdraft,
    Transaction,
    TransactionDirection,
    TransactionStatus,
)
from ._build import builder, trusted, verify_trusted
from ._checks import (
    MAX_INTEGER_DIGITS,
    DateOrOffsetDateTime,
    ExactDecimal,
    IsoDate,
    NativeCheck,
    OffsetDateTime,
    UnsignedDecimal,
    WholeDecimal,
)
from ._money import CurrencyCode, Money, currency_codes, minor_units
from ._outcomes import Challenge, Pending, Result
from ._party import Party, TaxScheme, normalize_tax_id
from ._records import Balance, BalanceKind, Contribution, FundShare, Loan, Period, Record

__all__ = [
    "MAX_INTEGER_DIGITS",
    "Account",
    "AccountCategory",
    "Balance",
    "BankAccountRef",
    "CardDetails",
    "Counterparty",
    "Overdraft",
    "Transaction",
    "TransactionDirection",
    "TransactionStatus",
    "BalanceKind",
    "Challenge",
    "Contribution",
    "CurrencyCode",
    "DateOrOffsetDateTime",
    "ExactDecimal",
    "FundShare",
    "IsoDate",
    "Loan",
    "Money",
    "NativeCheck",
    "OffsetDateTime",
    "Party",
    "Pending",
    "Period",
    "Record",
    "Result",
    "TaxScheme",
    "UnsignedDecimal",
    "WholeDecimal",
    "builder",
    "currency_codes",
    "minor_units",
    "json_schema",
    "normalize_tax_id",
    "trusted",
    "verify_trusted",
]


def json_schema() -> dict[str, object]:
    """JSON Schema (2020-12) of every canonical type, for docs and compatibility checks.

    The records and their `Result`s are those of every defined capability
    (`caudal.capabilities.CAPABILITIES`), so a new capability's record is in it.
    """
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from ..capabilities import CAPABILITIES

    records = list(CAPABILITIES.values())
    models: list[type[BaseModel]] = [*records, Pending, Challenge]
    models += [Result[record] for record in records]  # type: ignore[valid-type]
    _, schema = models_json_schema(
        [(m, "serialization") for m in models],
        title="caudal canonical model",
    )
    return schema
