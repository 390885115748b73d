"""Money: an exact amount in an ISO 4217 currency.

The amount is whatever the provider sent, digit for digit. The model never rounds and never
rejects extra decimals: presentation may round, the record of what the provider said may not.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from ._checks import ExactDecimal

__all__ = ["CurrencyCode", "ExactDecimal", "Money", "currency_codes", "minor_units"]


@cache
def _iso4217() -> dict[str, int | None]:
    # Imported on first use: the package parses its XML table at import (about 30 ms).
    import iso4217

    return {c.code: c.exponent for c in iso4217.Currency}


def currency_codes() -> frozenset[str]:
    """Every active ISO 4217 code, from the maintained `iso4217` package."""
    return frozenset(_iso4217())


def minor_units(currency: str) -> int | None:
    """Digits after the decimal point in `currency` (CLP 0, BRL 2, CLF 4); None for funds/metals."""
    return _iso4217()[currency]


def _check_currency(code: str) -> str:
    if code not in _iso4217():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
"""A three-letter ISO 4217 code, checked against the maintained table."""


class Money(BaseModel):
    """An exact, signed amount of one currency."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    amount: ExactDecimal
    currency: CurrencyCode

    def __neg__(self) -> Money:
        # copy_negate is exact; unary minus rounds to the context's 28 digits.
        return Money(amount=self.amount.copy_negate(), currency=self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
