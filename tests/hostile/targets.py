"""Where hostile bodies go for each connector capability: frames (a body with `@@` where a
list is read) and one valid item of that list, as the provider documents it."""

from __future__ import annotations

from typing import NamedTuple

OPERATION_ID = "op-hostile"


class Target(NamedTuple):
    connector: str
    capability: str
    frame: bytes
    """The body around the list; `@@` is the list."""
    item: bytes
    """One valid item of that list."""


def _khipu(data: bytes) -> bytes:
    return b'{"OperationId": "%s", "Status": "OK", "Data": %s}' % (OPERATION_ID.encode(), data)


TARGETS: tuple[Target, ...] = (
    Target(
        "afc.cl",
        "balance",
        _khipu(
            b'{"ContributionsBalance": {"CreationDate": "2024-06-14", "TotalBalance": 8061447, '
            b'"TotalBalanceCuota": 180139.2524, "Details": @@}}'
        ),
        b'{"Amount": 3074709, "AmountCuota": 68706.739, "EmployerId": "88.458.385-3", '
        b'"EmployerName": "Retail Atacama SpA"}',
    ),
    Target(
        "afc.cl",
        "contributions",
        _khipu(b'{"PaidContributions": @@}'),
        b'{"ContributionDate": "2024-05", "EmployerId": "88.458.385-3", "EmployerName": '
        b'"Retail Atacama SpA", "PaymentDate": "2024-06-10", "TaxableIncome": 1200000, '
        b'"TaxedAmount": 36000}',
    ),
    Target(
        "bancosecurity.cl",
        "balance",
        _khipu(b'{"Balance": @@}'),
        b'{"AccountId": "749982", "CreditDebitIndicator": "Debit", "DateTime": '
        b'"2024-08-12T17:13:31-0400", "Type": "ClosingBooked", "Amount": {"Amount": 13843094.5, '
        b'"Currency": "CLP"}}',
    ),
    Target(
        "bancosecurity.cl",
        "loans",
        _khipu(b'{"Loan": @@}'),
        b'{"Balance": {"Amount": 10990, "Currency": "CLP"}, "DueDate": "2023-07-26", '
        b'"GrantDate": "2024-05-06", "GrantedAmount": {"Amount": 20000, "Currency": "CLP"}, '
        b'"InstalmentDetail": {"CurrentInstalmentNumber": 7, "InstalmentsNumber": 9}, '
        b'"LoanNumber": "75599"}',
    ),
    Target(
        "belvo.br",
        "balance",
        b"@@",
        b'{"id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d", "link": '
        b'"30cb4806-6e00-48a4-91c9-ca55968576c8", "account_id": "84ba71d2-5863-4b34", '
        b'"account_internal_identification": "1234-5", "collected_at": "2024-05-21T08:32:00Z", '
        b'"created_at": "2024-05-21T08:32:00Z", "last_updated_at": "2024-05-21T08:32:00-03:00", '
        b'"currency": "BRL", "available": -658.83, "blocked": 185.07, '
        b'"automatically_invested": 1000.10}',
    ),
)

BY_NAME = {f"{t.connector}:{t.capability}": t for t in TARGETS}
