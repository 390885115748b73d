"""afc.cl: the Chilean unemployment-insurance fund (AFC), through Khipu.

- `balance`: the account's "Saldo en cuenta" -> one `booked` Balance in CLP, `units` in fund
  cuotas, dated by `CreationDate`, with one `FundShare` per employer (`Details`).
- `contributions`: the last credited contributions of a `period` -> one Contribution each.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

import caudal
from caudal import (
    Balance,
    BalanceKind,
    Call,
    Contribution,
    FundShare,
    Money,
    Operation,
    Party,
    TaxScheme,
)
from caudal.mapping import map_items, mapping_errors
from caudal.model import builder
from caudal.provenance import as_is, constant, money, tax_id

from . import raw
from .base import Endpoint, KhipuConnector, KhipuParams, khipu_provenance

__all__ = [
    "BALANCE",
    "BALANCE_PROVENANCE",
    "CONTRIBUTIONS",
    "CONTRIBUTIONS_PROVENANCE",
    "AfcConnector",
    "BalanceParams",
    "ContributionsParams",
]

CLP = "CLP"
"""AFC amounts are whole Chilean pesos; Khipu does not send a currency for them."""


# The raw models validated every value (amounts are exact Decimals; CLP is a known code), so
# the records are built without validating again.
_MONEY = builder(Money, "amount", "currency")
_SHARE = builder(FundShare, "employer", "amount", "units")
_BALANCE = builder(Balance, "kind", "provider_kind", "amount", "as_of", "units", "breakdown")
_CONTRIBUTION = builder(Contribution, "period", "employer", "paid_on", "taxable_income", "amount")


@lru_cache(maxsize=8192)
def _employer(rut: str, name: str) -> Party:
    """One Party per (RUT, name), shared by every record and body that names it (it is frozen).

    The same employers recur in every record of an AFC account and across accounts. Khipu's own
    examples carry RUTs whose check digit fails: such a record is kept, flagged.
    """
    return Party.rut(rut, name)


# -- balance -----------------------------------------------------------------------------------


class BalanceParams(KhipuParams):
    """afc.cl balance takes only the end user's credential."""


def _share(detail: raw.AmountDetail) -> FundShare:
    return _SHARE(
        employer=_employer(detail.EmployerId, detail.EmployerName),
        amount=_MONEY(detail.Amount, CLP),
        units=detail.AmountCuota,
    )


def balance_records(
    data: raw.AfcBalanceData, details: Iterable[raw.AmountDetail], call: Call[Any]
) -> tuple[Balance, ...]:
    """One booked CLP balance with its cuotas and a per-employer breakdown (`Details`)."""
    account = data.ContributionsBalance
    base = "$.Data.ContributionsBalance"
    breakdown = map_items(details, _share, call, f"{base}.Details")
    with mapping_errors(call, base):
        balance = _BALANCE(
            kind=BalanceKind.BOOKED,
            provider_kind="ContributionsBalance",
            amount=_MONEY(account.TotalBalance, CLP),
            as_of=account.CreationDate,
            units=account.TotalBalanceCuota,
            breakdown=tuple(breakdown),
        )
    return (balance,)


BALANCE = Endpoint(
    path="/v1/cl/services/afc.cl/balance",
    params=BalanceParams,
    body=raw.RequestBody[raw.BalanceRequestData],
    data=raw.AfcBalanceData,
    items=("ContributionsBalance", "Details"),
    records=balance_records,
)


# -- contributions -----------------------------------------------------------------------------


def _year_as_text(value: Any) -> Any:
    # `period=2024` is as natural as `period="2024"`; Khipu wants a string.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ContributionsParams(KhipuParams):
    """afc.cl contributions: the period to read (e.g. `"2024"`); omitted, Khipu's latest."""

    period: Annotated[str | None, BeforeValidator(_year_as_text), Field(min_length=1)] = None

    def request_fields(self) -> dict[str, Any]:
        return {"Period": self.period}


def _contribution(item: raw.PaidContribution) -> Contribution:
    return _CONTRIBUTION(
        period=item.ContributionDate,
        employer=_employer(item.EmployerId, item.EmployerName),
        paid_on=item.PaymentDate,
        taxable_income=_MONEY(item.TaxableIncome, CLP),
        amount=_MONEY(item.TaxedAmount, CLP),
    )


def contribution_records(
    data: raw.AfcContributionsData, items: Iterable[raw.PaidContribution], call: Call[Any]
) -> list[Contribution]:
    """One Contribution per `PaidContributions` item, in Khipu's order."""
    return map_items(items, _contribution, call, "$.Data.PaidContributions")


CONTRIBUTIONS = Endpoint(
    path="/v1/cl/services/afc.cl/last-credited-contribution",
    params=ContributionsParams,
    body=raw.RequestBody[raw.ContributionsRequestData],
    data=raw.AfcContributionsData,
    items=("PaidContributions",),
    records=contribution_records,
)


# -- declared provenance (checked by caudal's test kit, shown on the connector's page) ---------

BALANCE_PROVENANCE = khipu_provenance(
    "balance",
    raw.AfcBalanceData,
    "$.Data.ContributionsBalance",
    (
        constant("kind", BalanceKind.BOOKED),
        constant("provider_kind", "ContributionsBalance"),
        money("TotalBalance", "amount", currency=CLP),
        as_is("CreationDate", "as_of"),
        as_is("TotalBalanceCuota", "units"),
        money("Details[*].Amount", "breakdown[*].amount", currency=CLP),
        as_is("Details[*].AmountCuota", "breakdown[*].units"),
        tax_id("Details[*].EmployerId", "breakdown[*].employer.tax_id", TaxScheme.CL_RUT),
        as_is("Details[*].EmployerName", "breakdown[*].employer.name"),
    ),
)

CONTRIBUTIONS_PROVENANCE = khipu_provenance(
    "contributions",
    raw.AfcContributionsData,
    "$.Data.PaidContributions[*]",
    (
        as_is("ContributionDate", "period"),
        tax_id("EmployerId", "employer.tax_id", TaxScheme.CL_RUT),
        as_is("EmployerName", "employer.name"),
        as_is("PaymentDate", "paid_on"),
        money("TaxableIncome", "taxable_income", currency=CLP),
        money("TaxedAmount", "amount", currency=CLP),
    ),
)


class AfcConnector(KhipuConnector):
    """AFC Chile (seguro de cesantía): fund balance and credited contributions, via Khipu."""

    name = "afc.cl"
    title = "AFC Chile via Khipu"
    provenance = (BALANCE_PROVENANCE, CONTRIBUTIONS_PROVENANCE)

    @caudal.capability("balance")
    def balance_operation(self) -> Operation[BalanceParams]:
        """The AFC account balance in CLP and cuotas, per employer."""
        return self.khipu_operation(BALANCE)

    @caudal.capability("contributions")
    def contributions_operation(self) -> Operation[ContributionsParams]:
        """The last credited contributions of a period."""
        return self.khipu_operation(CONTRIBUTIONS)
