"""The canonical model: what host apps see, whichever provider the data came from."""

from ._money import CurrencyCode, ExactDecimal, Money, currency_codes, minor_units
from ._outcomes import Challenge, Pending, Result
from ._party import Party, TaxScheme, normalize_tax_id
from ._records import Balance, BalanceKind, Contribution, FundShare, Loan, Period, Record

__all__ = [
    "Balance",
    "BalanceKind",
    "Challenge",
    "Contribution",
    "CurrencyCode",
    "ExactDecimal",
    "FundShare",
    "Loan",
    "Money",
    "Party",
    "Pending",
    "Period",
    "Record",
    "Result",
    "TaxScheme",
    "currency_codes",
    "minor_units",
    "normalize_tax_id",
]
