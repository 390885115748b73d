"""Khipu's documentation examples, assembled into whole bodies, and small test helpers.

Each field value is the example the endpoint's documentation gives for it; the docs show no
whole body, so the envelope around them is the documented one (`Error`, `LifeSpan` null).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from caudal import Balance, BalanceKind, Contribution, FundShare, Loan, Money, Party
from caudal.testing import Golden

OPERATION_ID = "6baf6c19-e485-463b-ae24-a821b025c8a4"
E201 = "El servicio destino utilizado para la extracción de datos no se encuentra disponible."


def ok(data: str) -> str:
    """A synchronous 200 body around `data` (JSON text)."""
    return (
        f'{{"OperationId": "{OPERATION_ID}", "Status": "OK", "Data": {data}, '
        '"AdditionalInformation": null, "Error": null, "LifeSpan": null}'
    )


AFC_BALANCE = ok(
    '{"ContributionsBalance": {"CreationDate": "2017-07-22", "Details": [{"Amount": 10000, '
    '"AmountCuota": 223.45, "EmployerId": "11.222.333-4", "EmployerName": "KHIPU SPA"}], '
    '"TotalBalance": 10000, "TotalBalanceCuota": 223.45}}'
)

AFC_CONTRIBUTIONS = ok(
    '{"PaidContributions": [{"ContributionDate": "2017-07", "EmployerId": "11.222.333-4", '
    '"EmployerName": "KHIPU SPA", "PaymentDate": "2017-07-22", "TaxableIncome": 10000, '
    '"TaxedAmount": 1000}]}'
)

BANK_BALANCES = ok(
    '{"Balance": [{"AccountId": "873458", "CreditDebitIndicator": "Credit", '
    '"DateTime": "2017-07-21T17:32:28-0400", "Type": "ClosingAvailable", '
    '"Amount": {"Amount": 10000, "Currency": "CLP"}}]}'
)

# `GrantedAmount` has no documented fields; it is read as {Amount, Currency} like `Balance`.
BANK_LOANS = ok(
    '{"Loan": [{"Balance": {"Amount": 10990, "Currency": "CLP"}, "DueDate": "2023-07-26", '
    '"GrantDate": "2024-05-06", "GrantedAmount": {"Amount": 20000, "Currency": "CLP"}, '
    '"InstalmentDetail": {"CurrentInstalmentNumber": 7, "InstalmentsNumber": 9}, '
    '"LoanNumber": "75599"}]}'
)

ACCEPTED = (
    f'{{"OperationId": "{OPERATION_ID}", "Status": "OK", "Data": null, '
    '"AdditionalInformation": "Data will be sent to the callback URL.", "Error": null, '
    '"LifeSpan": "2017-07-22T00:00:00-0400"}'
)


def error(code: str = "E201", kind: str = "WAIT_4_HOURS_BEFORE_RETRY", text: str = E201) -> str:
    """An ERROR envelope as Khipu sends it, in an HTTP 200."""
    return (
        f'{{"OperationId": "{OPERATION_ID}", "Status": "ERROR", "Data": null, '
        f'"AdditionalInformation": null, "Error": {{"Code": "{code}", "Type": "{kind}", '
        f'"Description": "{text}"}}, "LifeSpan": null}}'
    )


BODIES = {
    ("afc.cl", "balance"): AFC_BALANCE,
    ("afc.cl", "contributions"): AFC_CONTRIBUTIONS,
    ("bancosecurity.cl", "balance"): BANK_BALANCES,
    ("bancosecurity.cl", "loans"): BANK_LOANS,
}
"""The documentation's example body of every capability."""

CAPABILITIES = sorted(BODIES)

# -- golden examples: each documentation body and the records it gives, written by hand ---------

KHIPU_SPA = Party.rut("11.222.333-4", "KHIPU SPA")
"""The docs' employer; its RUT fails the check digit (it should end in 9): kept, flagged."""


def clp(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="CLP")


GOLDEN: dict[tuple[str, str], list[Golden]] = {
    ("afc.cl", "balance"): [
        Golden(
            AFC_BALANCE,
            [
                Balance(
                    kind=BalanceKind.BOOKED,
                    provider_kind="ContributionsBalance",
                    amount=clp("10000"),
                    as_of=date(2017, 7, 22),
                    units=Decimal("223.45"),
                    breakdown=(
                        FundShare(employer=KHIPU_SPA, amount=clp("10000"), units=Decimal("223.45")),
                    ),
                )
            ],
            source="Khipu's afc.cl balance documentation, its field examples",
            notes=(),
        )
    ],
    ("afc.cl", "contributions"): [
        Golden(
            AFC_CONTRIBUTIONS,
            [
                Contribution(
                    period="2017-07",
                    employer=KHIPU_SPA,
                    paid_on=date(2017, 7, 22),
                    taxable_income=clp("10000"),
                    amount=clp("1000"),
                )
            ],
            source="Khipu's afc.cl last-credited-contribution documentation",
        )
    ],
    ("bancosecurity.cl", "balance"): [
        Golden(
            BANK_BALANCES,
            [
                Balance(
                    account_id="873458",
                    kind=BalanceKind.AVAILABLE,
                    provider_kind="ClosingAvailable",
                    amount=clp("10000"),
                    # "-0400", written without a colon, is kept as the offset.
                    as_of=datetime(2017, 7, 21, 17, 32, 28, tzinfo=timezone(timedelta(hours=-4))),
                )
            ],
            source="Khipu's bancosecurity.cl current balances documentation",
        ),
        Golden(
            BANK_BALANCES.replace('"Credit"', '"Debit"').replace("10000", "10000.50"),
            [
                Balance(
                    account_id="873458",
                    kind=BalanceKind.AVAILABLE,
                    provider_kind="ClosingAvailable",
                    amount=clp("-10000.50"),
                    as_of=datetime(2017, 7, 21, 17, 32, 28, tzinfo=timezone(timedelta(hours=-4))),
                )
            ],
            source="the documentation's example as a Debit of 10000.50 (OBIE: the sign is "
            "CreditDebitIndicator)",
        ),
    ],
    ("bancosecurity.cl", "loans"): [
        Golden(
            BANK_LOANS,
            [
                Loan(
                    loan_id="75599",
                    outstanding=clp("10990"),
                    granted=clp("20000"),
                    granted_on=date(2024, 5, 6),
                    due_on=date(2023, 7, 26),
                    current_instalment=7,
                    instalments_total=9,
                )
            ],
            source="Khipu's bancosecurity.cl loans documentation",
        )
    ],
}
"""Per (connector, capability): the documentation's bodies and their canonical records."""

PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("afc.cl", "balance"): {},
    ("afc.cl", "contributions"): {"period": "2024"},
    ("bancosecurity.cl", "balance"): {"account_number": "11887755"},
    ("bancosecurity.cl", "loans"): {},
}
"""Parameters (besides `credential`) that each capability needs."""

_counter = itertools.count()


def unique(word: str) -> str:
    """A username of its own for one test, e.g. `flaky-2-t17`: emulator counts stay separate."""
    return f"{word}-t{next(_counter)}"


def login(username: str) -> dict[str, str]:
    """A `credential=` value for the emulator's scenario `username`."""
    return {"Username": username, "Password": "s3cr3t-pw"}
