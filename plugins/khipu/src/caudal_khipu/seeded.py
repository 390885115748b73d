"""Realistic Khipu data for the sandbox, built from the raw models and seeded.

The same seed (the end user's username, the account number, the period) always gives the same
data, in any process, so demos and tests are reproducible. What it looks like:

- RUTs with a valid check digit, written `76.086.428-5`; one employer in ten carries the
  documentation's own invalid example `11.222.333-4`, which must be kept and flagged;
- whole CLP amounts; cuotas with 2 to 4 decimals, trailing zeros included (`12.3400`);
- date-times at -0300 or -0400 (Chile's summer and winter offsets), written without a colon;
- empty arrays now and then, debit balances, an unknown balance type, loan numbers with
  leading zeros.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from stdnum.cl import rut

from . import raw

__all__ = [
    "DOCS_INVALID_RUT",
    "afc_balance",
    "afc_contributions",
    "bank_balances",
    "bank_loans",
    "rng_for",
    "valid_rut",
]

DOCS_INVALID_RUT = "11.222.333-4"
"""The documentation's example RUT; its check digit should be 9."""

_COMPANIES = (
    "KHIPU SPA",
    "Comercial Los Andes Ltda.",
    "Constructora Pehuén S.A.",
    "Servicios Australes SpA",
    "Agrícola Valle Central Ltda.",
    "Transportes Biobío S.A.",
    "Inversiones Ñuble SpA",
    "Clínica Providencia S.A.",
    "Pesquera Chiloé S.A.",
    "Retail Atacama SpA",
)
_CHILE = (timezone(timedelta(hours=-3)), timezone(timedelta(hours=-4)))
_EPOCH = date(2024, 1, 1)
_CUOTA_VALUE = Decimal("44.7512")  # CLP per AFC cuota, as in Khipu's example (10000 / 223.45)


def rng_for(*parts: str) -> random.Random:
    """A generator seeded from text: stable across processes (unlike `hash`)."""
    return random.Random("\x1f".join(("khipu", *parts)))  # noqa: S311 - sample data, not secrets


def valid_rut(rng: random.Random) -> str:
    """A company RUT with a correct check digit, written with dots and dash."""
    body = str(rng.randint(60_000_000, 99_999_999))
    return str(rut.format(body + rut.calc_check_digit(body)))


def _employers(rng: random.Random, count: int, invalid_ruts: bool) -> list[tuple[str, str]]:
    names = rng.sample(_COMPANIES, count)
    employers = []
    for name in names:
        invalid = invalid_ruts or rng.random() < 0.1
        employers.append((DOCS_INVALID_RUT if invalid else valid_rut(rng), name))
    return employers


def _cuotas(rng: random.Random) -> Decimal:
    places = rng.choice((2, 3, 4))
    return Decimal(rng.randint(10**places, 90_000 * 10**places)).scaleb(-places)


def afc_balance(
    seed: str, *, empty: bool = False, invalid_ruts: bool = False
) -> raw.AfcBalanceData:
    """The AFC balance of one end user: per-employer cuotas valued at a fixed cuota price."""
    rng = rng_for("afc.cl", "balance", seed)
    count = 0 if empty or rng.random() < 0.125 else rng.randint(1, 4)
    details = []
    for employer_id, name in _employers(rng, count, invalid_ruts):
        units = _cuotas(rng)
        amount = (units * _CUOTA_VALUE).quantize(Decimal(1))
        details.append(
            raw.AmountDetail(
                Amount=amount, AmountCuota=units, EmployerId=employer_id, EmployerName=name
            )
        )
    return raw.AfcBalanceData(
        ContributionsBalance=raw.AfcAccountBalance(
            CreationDate=_EPOCH + timedelta(days=rng.randint(0, 700)),
            Details=details,
            TotalBalance=sum((d.Amount for d in details), Decimal(0)),
            TotalBalanceCuota=sum((d.AmountCuota for d in details), Decimal("0.00")),
        )
    )


def _months(rng: random.Random, period: str | None) -> list[tuple[int, int]]:
    if period is not None and period.isdigit() and len(period) == 4:
        year = int(period)
        return [(year, m) for m in range(1, rng.randint(1, 12) + 1)]
    start = _EPOCH + timedelta(days=rng.randint(0, 500))
    months = []
    for k in range(rng.randint(1, 6)):
        index = start.year * 12 + start.month - 1 + k
        months.append((index // 12, index % 12 + 1))
    return months


def _paid_on(year: int, month: int, rng: random.Random) -> date:
    index = year * 12 + month  # the month after the accrual month
    return date(index // 12, index % 12 + 1, rng.randint(5, 13))


def afc_contributions(
    seed: str, period: str | None, *, empty: bool = False, invalid_ruts: bool = False
) -> raw.AfcContributionsData:
    """Contributions for each month of `period` (a year), 3% of a whole-CLP taxable income."""
    rng = rng_for("afc.cl", "contributions", seed, period or "")
    if empty or rng.random() < 0.1:
        return raw.AfcContributionsData(PaidContributions=[])
    employers = _employers(rng, rng.randint(1, 2), invalid_ruts)
    items = []
    for year, month in _months(rng, period):
        employer_id, name = rng.choice(employers)
        income = Decimal(rng.randint(460_000, 3_400_000))
        items.append(
            raw.PaidContribution(
                ContributionDate=f"{year:04d}-{month:02d}",
                EmployerId=employer_id,
                EmployerName=name,
                PaymentDate=_paid_on(year, month, rng),
                TaxableIncome=income,
                TaxedAmount=(income * 3 / 100).quantize(Decimal(1)),
            )
        )
    return raw.AfcContributionsData(PaidContributions=items)


def _moment(rng: random.Random) -> datetime:
    day = datetime(2024, 1, 1) + timedelta(seconds=rng.randint(0, 600 * 86_400))
    return day.replace(tzinfo=rng.choice(_CHILE))


def _money(rng: random.Random, currency: str, top: int) -> Decimal:
    if currency == "CLP":
        return Decimal(rng.randint(0, top))
    return Decimal(rng.randint(0, top * 100)).scaleb(-2)


def _entry(
    account_id: str, kind: str, signed: Decimal, currency: str, when: datetime
) -> raw.BankBalance:
    return raw.BankBalance(
        AccountId=account_id,
        CreditDebitIndicator="Debit" if signed < 0 else "Credit",
        DateTime=when,
        Type=kind,
        Amount=raw.CurrencyAndAmount(Amount=abs(signed), Currency=currency),
    )


def bank_balances(
    seed: str, account_number: str, currency: str | None, *, empty: bool = False
) -> raw.BankBalancesData:
    """Closing booked and available balances of one account; sometimes withheld, overdrawn."""
    rng = rng_for("bancosecurity.cl", "balance", seed, account_number, currency or "")
    if empty:
        return raw.BankBalancesData(Balance=[])
    code = currency or "CLP"
    top = 80_000_000 if code == "CLP" else 90_000
    account_id = str(rng.randint(100_000, 999_999))
    when = _moment(rng)
    booked = _money(rng, code, top)
    if rng.random() < 0.15:
        booked = -_money(rng, code, top // 20)  # overdrawn: a Debit
    withheld = _money(rng, code, top // 50) if rng.random() < 0.3 else Decimal(0)
    entries = [
        _entry(account_id, "ClosingBooked", booked, code, when),
        _entry(account_id, "ClosingAvailable", booked - withheld, code, when),
    ]
    if withheld:
        entries.append(_entry(account_id, "Withheld", withheld, code, when))
    if rng.random() < 0.1:  # a type Khipu may add (UK Open Banking has it): must stay visible
        entries.append(_entry(account_id, "InterimAvailable", booked, code, when))
    return raw.BankBalancesData(Balance=entries)


def _loan(rng: random.Random) -> raw.BankLoan:
    instalments = rng.choice((12, 24, 36, 48, 60))
    current = rng.randint(1, instalments)
    granted = Decimal(rng.randint(500, 30_000) * 1_000)
    outstanding = (granted * (instalments - current + 1) / instalments).quantize(Decimal(1))
    granted_on = _EPOCH - timedelta(days=rng.randint(0, 1_500))
    width = rng.choice((5, 6, 8))
    return raw.BankLoan(
        Balance=raw.CurrencyAndAmount(Amount=outstanding, Currency="CLP"),
        DueDate=granted_on + timedelta(days=round(instalments * 30.44)),
        GrantDate=granted_on,
        GrantedAmount=raw.CurrencyAndAmount(Amount=granted, Currency="CLP"),
        InstalmentDetail=raw.Instalments(
            CurrentInstalmentNumber=current, InstalmentsNumber=instalments
        ),
        LoanNumber=f"{rng.randint(1, 10**width - 1):0{width}d}",
    )


def bank_loans(seed: str, *, empty: bool = False) -> raw.LoansData:
    """The end user's personal loans: none to three, in CLP."""
    rng = rng_for("bancosecurity.cl", "loans", seed)
    count = 0 if empty or rng.random() < 0.15 else rng.randint(1, 3)
    return raw.LoansData(Loan=[_loan(rng) for _ in range(count)])
