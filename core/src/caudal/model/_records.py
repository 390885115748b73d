"""The canonical records a capability returns: balances, contributions, loans (accounts and
transactions are in `_accounts`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ._money import ExactDecimal, Money
from ._party import Party

__all__ = ["Balance", "BalanceKind", "Contribution", "FundShare", "Loan", "Period", "Record"]

Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""An accrual month, `YYYY-MM`."""


class Record(BaseModel):
    """Base of every canonical record a capability returns: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class BalanceKind(StrEnum):
    """What a balance figure means. `other` keeps a provider type we do not know yet."""

    AVAILABLE = "available"
    BOOKED = "booked"
    BLOCKED = "blocked"
    INVESTED = "invested"
    CREDIT_LIMIT = "credit_limit"
    OTHER = "other"


class FundShare(Record):
    """One employer's share of a pension or severance fund."""

    employer: Party
    amount: Money
    units: ExactDecimal


class Balance(Record):
    """A balance figure of one account at one moment.

    `provider_kind` is the provider's own word for the figure, so an `other` kind is never opaque.
    `as_of` is a date when the provider gives no time of day: we do not invent a midnight. It is
    None when the provider sends no timestamp at all (a null): caudal never invents one, not
    even the time of the request (that is the `Result`'s `fetched_at`, a different fact: when
    caudal asked, not when the institution computed the figure). A connector must pass it
    explicitly, so a missing one is a decision, not an oversight.
    """

    account_id: str | None = None
    kind: BalanceKind
    provider_kind: str
    amount: Money
    as_of: AwareDatetime | date | None
    units: ExactDecimal | None = None
    breakdown: tuple[FundShare, ...] = ()
    references: dict[str, str] = Field(default_factory=dict)


class Contribution(Record):
    """A social-security contribution credited for one accrual month."""

    period: Period
    employer: Party
    paid_on: date
    taxable_income: Money
    amount: Money


class Loan(Record):
    """A loan held by the account holder. `loan_id` is the provider's string, leading zeros kept."""

    loan_id: str
    outstanding: Money
    granted: Money | None = None
    granted_on: date | None = None
    due_on: date | None = None
    current_instalment: int | None = None
    instalments_total: int | None = None
