"""Mapping: raw provider bytes -> canonical records, for every capability of every connector.

Three ways over the very same bytes:

- `caudal`: `conn.parse(capability, body)`, the path a host app gets (exact: every JSON number
  is read from its text into a `Decimal`), including the `Result`;
- `reference`: the straightforward way, `TypeAdapter(<raw model>).validate_json(body)` then one
  canonical model built (validated) per output record;
- `ceiling`: `validate_json` into the raw models alone, no canonical model at all.

The reference and the ceiling are *lossy* (pydantic's `validate_json` reads a JSON number for a
`Decimal` field through a float: `1.10` -> `1.1`, 25 digits -> 17); they are yardsticks, not
paths caudal could take.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, reduce
from operator import or_
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, TypeAdapter, create_model

from ._core import Entry, Results, best_of

__all__ = ["CASES", "run"]

KHIPU = {"base_url": "http://127.0.0.1:9", "api_key": "bench"}
BELVO = {"base_url": "http://127.0.0.1:9", "secret_id": "bench", "secret_password": "bench"}


@dataclass(frozen=True)
class Case:
    """One capability: how to make a body of n raw records and the two lossy yardsticks."""

    connector: str
    capability: str
    settings: dict[str, Any]
    pool: Callable[[], list[str]]
    """JSON texts of distinct raw records (cycled to reach n)."""
    wrap: Callable[[list[str]], bytes]
    """The provider's body around the records' texts."""
    adapter: Callable[[], TypeAdapter[Any]]
    """The raw model of the whole body (the ceiling's `validate_json`)."""
    canonical: Callable[[Any], Sequence[Any]]
    """The reference's canonical records from the validated raw body (validated construction)."""

    @property
    def name(self) -> str:
        return f"{self.connector} {self.capability}"

    def body(self, n: int) -> bytes:
        pool = self.pool()
        return self.wrap([pool[i % len(pool)] for i in range(n)])


# -- the lossy yardsticks' raw models ------------------------------------------------------------


def _lossy_meta(meta: list[Any]) -> list[Any]:
    """The metadata without caudal's exactness check, keeping the bound it enforces."""
    from caudal.model import NativeCheck

    kept = []
    for m in meta:
        if isinstance(m, NativeCheck) and m.name.startswith("exact"):
            if m.ge is not None:
                kept.append(Field(ge=m.ge))
        else:
            kept.append(m)
    return kept


def _lossy_type(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return lossy(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        kept = _lossy_meta(list(tp.__metadata__))
        inner = _lossy_type(args[0])
        return Annotated[(inner, *kept)] if kept else inner  # type: ignore[valid-type]
    if origin is Union or type(tp).__name__ == "UnionType":
        return reduce(or_, [_lossy_type(a) for a in args])
    if origin is list:
        return list[_lossy_type(args[0])]  # type: ignore[misc]
    return tp


@cache
def lossy(model: type[BaseModel]) -> type[BaseModel]:
    """`model` as a straightforward implementation would write it: amounts plain `Decimal`.

    caudal's raw models refuse a float outright (`ExactDecimal`), so `validate_json`, which
    hands a JSON decimal to a `Decimal` field as a float, cannot even run on them; this copy
    drops only that refusal, keeping every other validator, constraint and default.
    """
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        tp = _lossy_type(info.annotation)
        kept = _lossy_meta(info.metadata)
        annotated = Annotated[(tp, *kept)] if kept else tp  # type: ignore[valid-type]
        fields[name] = (annotated, info.default if not info.is_required() else ...)
    lossy_model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        f"Lossy{model.__name__}", __config__=model.model_config, **fields
    )
    return lossy_model


# -- Khipu: afc.cl and bancosecurity.cl ----------------------------------------------------------


def _khipu_wrap(data_open: str, data_close: str) -> Callable[[list[str]], bytes]:
    def wrap(records: list[str]) -> bytes:
        head = '{"OperationId":"bench-0001","Status":"OK","AdditionalInformation":null,'
        text = head + '"Error":null,"LifeSpan":null,"Data":' + data_open
        return (text + ",".join(records) + data_close + "}").encode()

    return wrap


def _khipu_pool(make: Callable[[int], Sequence[Any]], size: int = 600) -> list[str]:
    from caudal_khipu.emulator import khipu_json

    texts: list[str] = []
    seed = 0
    while len(texts) < size:
        texts += [khipu_json(r) for r in make(seed)]
        seed += 1
    return texts[:size]


def _envelope(data: type) -> Callable[[], TypeAdapter[Any]]:
    def adapter() -> TypeAdapter[Any]:
        from caudal_khipu import raw

        return TypeAdapter(lossy(raw.Envelope[data]))  # type: ignore[valid-type]

    return adapter


def _afc_balance_pool() -> list[str]:
    from caudal_khipu import seeded

    return _khipu_pool(lambda s: seeded.afc_balance(f"bench-{s}").ContributionsBalance.Details)


def _afc_contributions_pool() -> list[str]:
    from caudal_khipu import seeded

    return _khipu_pool(lambda s: seeded.afc_contributions(f"bench-{s}", "2024").PaidContributions)


def _bank_balances_pool() -> list[str]:
    from caudal_khipu import seeded

    return _khipu_pool(lambda s: seeded.bank_balances(f"bench-{s}", "0011887755", None).Balance)


def _bank_loans_pool() -> list[str]:
    from caudal_khipu import seeded

    return _khipu_pool(lambda s: seeded.bank_loans(f"bench-{s}").Loan)


def _clp(amount: Decimal) -> Any:
    from caudal import Money

    return Money(amount=amount, currency="CLP")


def _afc_balance_canonical(envelope: Any) -> list[Any]:
    from caudal import Balance, BalanceKind, FundShare, Party

    account = envelope.Data.ContributionsBalance
    breakdown = tuple(
        FundShare(
            employer=Party.rut(d.EmployerId, d.EmployerName),
            amount=_clp(d.Amount),
            units=d.AmountCuota,
        )
        for d in account.Details
    )
    return [
        Balance(
            kind=BalanceKind.BOOKED,
            provider_kind="ContributionsBalance",
            amount=_clp(account.TotalBalance),
            as_of=account.CreationDate,
            units=account.TotalBalanceCuota,
            breakdown=breakdown,
        )
    ]


def _afc_contributions_canonical(envelope: Any) -> list[Any]:
    from caudal import Contribution, Party

    return [
        Contribution(
            period=c.ContributionDate,
            employer=Party.rut(c.EmployerId, c.EmployerName),
            paid_on=c.PaymentDate,
            taxable_income=_clp(c.TaxableIncome),
            amount=_clp(c.TaxedAmount),
        )
        for c in envelope.Data.PaidContributions
    ]


_KINDS = {"ClosingAvailable": "available", "ClosingBooked": "booked", "Withheld": "blocked"}


def _bank_balances_canonical(envelope: Any) -> list[Any]:
    from caudal import Balance, Money

    out = []
    for e in envelope.Data.Balance:
        amount = e.Amount.Amount
        if e.CreditDebitIndicator == "Debit" and not amount.is_zero():
            amount = amount.copy_negate()
        out.append(
            Balance(
                account_id=e.AccountId,
                kind=_KINDS.get(e.Type, "other"),
                provider_kind=e.Type,
                amount=Money(
                    amount=amount.copy_abs() if amount.is_zero() else amount,
                    currency=e.Amount.Currency,
                ),
                as_of=e.DateTime,
            )
        )
    return out


def _bank_loans_canonical(envelope: Any) -> list[Any]:
    from caudal import Loan, Money

    def money(v: Any) -> Any:
        return None if v is None else Money(amount=v.Amount, currency=v.Currency)

    return [
        Loan(
            loan_id=e.LoanNumber,
            outstanding=money(e.Balance),
            granted=money(e.GrantedAmount),
            granted_on=e.GrantDate,
            due_on=e.DueDate,
            current_instalment=e.InstalmentDetail.CurrentInstalmentNumber,
            instalments_total=e.InstalmentDetail.InstalmentsNumber,
        )
        for e in envelope.Data.Loan
    ]


# -- Belvo: belvo.br -----------------------------------------------------------------------------


def _belvo_pool(size: int = 600) -> list[str]:
    from caudal_belvo.emulator import json_text, seeded_accounts

    texts: list[str] = []
    seed = 0
    while len(texts) < size:
        texts += [json_text(a) for a in seeded_accounts(f"bench-link-{seed}")]
        seed += 1
    return texts[:size]


def _belvo_wrap(records: list[str]) -> bytes:
    return ("[" + ",".join(records) + "]").encode()


def _belvo_adapter() -> TypeAdapter[Any]:
    from caudal_belvo.raw import RawBalance

    return TypeAdapter(list[lossy(RawBalance)])  # type: ignore[misc]


def _belvo_canonical(accounts: Any) -> list[Any]:
    from caudal import Balance, Money

    kinds = (
        ("available", "available"),
        ("blocked", "blocked"),
        ("automatically_invested", "invested"),
    )
    out = []
    for a in accounts:
        references = {
            "id": a.id,
            "link": a.link,
            "account_internal_identification": a.account_internal_identification,
            "collected_at": a.collected_at.isoformat(),
            "created_at": a.created_at.isoformat(),
        }
        for key, kind in kinds:
            out.append(
                Balance(
                    account_id=a.account_id,
                    kind=kind,
                    provider_kind=key,
                    amount=Money(amount=getattr(a, key), currency=a.currency),
                    as_of=a.last_updated_at,
                    references=references,
                )
            )
    return out


def _ofda_pool(kind: str, size: int = 600) -> list[str]:
    from caudal_belvo.emulator import json_text
    from caudal_belvo.emulator_ofda import seeded_ofda_accounts, transaction_at

    texts: list[str] = []
    seed = 0
    while len(texts) < size:
        link = f"bench-link-{seed}"
        accounts = seeded_ofda_accounts(link)
        if kind == "accounts":
            texts += [json_text(a.model_dump()) for a in accounts]
        else:
            texts += [json_text(transaction_at(link, i, accounts).model_dump()) for i in range(40)]
        seed += 1
    return texts[:size]


def _ofda_adapter(kind: str) -> Callable[[], TypeAdapter[Any]]:
    def adapter() -> TypeAdapter[Any]:
        from caudal_belvo.raw_ofda import RawAccount, RawTransaction

        model = RawAccount if kind == "accounts" else RawTransaction
        return TypeAdapter(list[lossy(model)])  # type: ignore[misc]

    return adapter


def _money(amount: Any, currency: str) -> Any:
    from caudal import Money

    return None if amount is None else Money(amount=amount, currency=currency)


def _accounts_canonical(accounts: Any) -> list[Any]:
    """The straightforward way: validated construction of every record and value."""
    from caudal import Account, Balance
    from caudal.model import Overdraft

    categories = {"CHECKING_ACCOUNT": "checking", "SAVINGS_ACCOUNT": "savings"}
    categories |= {"CREDIT_CARD": "credit_card", "LOAN_ACCOUNT": "loan"}
    out = []
    for a in accounts:
        sign = -1 if a.balance_type == "LIABILITY" else 1
        figures = (
            ("current", "booked", a.balance.current),
            ("available", "available", a.balance.available),
            ("blocked", "blocked", a.balance.blocked),
            ("automatically_invested", "invested", a.balance.automatically_invested),
        )
        balances = tuple(
            Balance(
                account_id=a.id,
                kind=kind,
                provider_kind=key,
                amount=_money(sign * v if key == "current" else v, a.currency),
                as_of=a.collected_at,
            )
            for key, kind, v in figures
            if v is not None
        )
        o, c = a.overdraft, a.credit_data
        out.append(
            Account(
                account_id=a.id,
                institution=a.institution.name,
                category=categories.get(a.category or "", "other"),
                provider_category=a.category,
                name=a.name,
                number=a.number,
                agency=a.agency,
                check_digit=a.check_digit,
                currency=a.currency,
                balances=balances,
                overdraft=None
                if o is None
                else Overdraft(
                    limit=_money(o.arranged, a.currency),
                    used=_money(o.used, a.currency),
                    used_beyond_limit=_money(o.unarranged, a.currency),
                ),
                credit_limit=_money(c.credit_limit, a.currency) if c else None,
                references={"internal_identification": a.internal_identification},
            )
        )
    return out


def _transactions_canonical(transactions: Any) -> list[Any]:
    """The straightforward way: validated construction of every record and value."""
    from caudal import Party, TaxScheme, Transaction
    from caudal.model import BankAccountRef, CardDetails, Counterparty

    directions = {"INFLOW": "inflow", "OUTFLOW": "outflow"}
    statuses = {"PROCESSED": "booked", "PENDING": "pending"}
    schemes = {"INDIVIDUAL": TaxScheme.BR_CPF, "COMPANY": TaxScheme.BR_CNPJ}
    out = []
    for t in transactions:
        currency = t.currency or t.account.currency
        direction = directions.get(t.type or "", "unknown")
        amount = -t.amount if direction == "outflow" else t.amount
        cp = t.counterparty
        counterparty = None
        if cp is not None:
            scheme = schemes.get(cp.type or "")
            counterparty = Counterparty(
                party=Party(scheme=scheme, tax_id=cp.document_number)
                if scheme and cp.document_number
                else None,
                provider_type=cp.type,
                account=BankAccountRef(
                    bank_code=cp.clearing_code,
                    agency=cp.agency,
                    number=cp.number,
                    check_digit=cp.check_digit,
                ),
            )
        card = t.credit_card_data
        out.append(
            Transaction(
                transaction_id=t.id,
                account_id=t.account.id if t.account else None,
                amount=_money(amount, currency),
                direction=direction,
                provider_direction=t.type,
                status=statuses.get(t.status or "", "unknown"),
                provider_status=t.status,
                value_date=t.value_date,
                transacted_at=t.transacted_at,
                accounting_date=t.accounting_date,
                description=t.description,
                counterparty=counterparty,
                payment_type=t.payment_type,
                operation_type=t.operation_type,
                mcc=f"{t.mcc:04d}" if t.mcc is not None else None,
                category=t.category,
                card=None
                if card is None
                else CardDetails(
                    card_number=card.card_number,
                    instalment=card.installment_identifier,
                    instalments_total=card.number_of_installments,
                ),
                references={"internal_identification": t.internal_identification or ""},
            )
        )
    return out


def _cases() -> list[Case]:
    from caudal_khipu import raw

    return [
        Case(
            "afc.cl",
            "balance",
            KHIPU,
            _afc_balance_pool,
            _khipu_wrap(
                '{"ContributionsBalance":{"CreationDate":"2024-05-02",'
                '"TotalBalance":123456789,"TotalBalanceCuota":2758.1234,"Details":[',
                "]}}",
            ),
            _envelope(raw.AfcBalanceData),
            _afc_balance_canonical,
        ),
        Case(
            "afc.cl",
            "contributions",
            KHIPU,
            _afc_contributions_pool,
            _khipu_wrap('{"PaidContributions":[', "]}"),
            _envelope(raw.AfcContributionsData),
            _afc_contributions_canonical,
        ),
        Case(
            "bancosecurity.cl",
            "balance",
            KHIPU,
            _bank_balances_pool,
            _khipu_wrap('{"Balance":[', "]}"),
            _envelope(raw.BankBalancesData),
            _bank_balances_canonical,
        ),
        Case(
            "bancosecurity.cl",
            "loans",
            KHIPU,
            _bank_loans_pool,
            _khipu_wrap('{"Loan":[', "]}"),
            _envelope(raw.LoansData),
            _bank_loans_canonical,
        ),
        Case(
            "belvo.br", "balance", BELVO, _belvo_pool, _belvo_wrap, _belvo_adapter, _belvo_canonical
        ),
        Case(
            "belvo.br",
            "accounts",
            BELVO,
            lambda: _ofda_pool("accounts"),
            _belvo_wrap,
            _ofda_adapter("accounts"),
            _accounts_canonical,
        ),
        Case(
            "belvo.br",
            "transactions",
            BELVO,
            lambda: _ofda_pool("transactions"),
            _belvo_wrap,
            _ofda_adapter("transactions"),
            _transactions_canonical,
        ),
    ]


CASES = _cases


def _peak(fn: Callable[[], object]) -> int:
    """Peak bytes traced while `fn` runs (its result kept until the peak is read)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        kept = fn()
        _, peak = tracemalloc.get_traced_memory()
        del kept
    finally:
        tracemalloc.stop()
    return peak


def run(results: Results, *, records: int, page: int, repeat: int, memory: bool = True) -> None:
    """Every capability: `records` raw records in one body and in pages of `page`."""
    for case in _cases():
        _run_case(results, case, records=records, page=page, repeat=repeat, memory=memory)


def _run_case(
    results: Results, case: Case, *, records: int, page: int, repeat: int, memory: bool
) -> None:
    from caudal import registry

    conn = registry.get(case.connector, **case.settings)
    adapter = case.adapter()
    canonical = case.canonical
    capability = case.capability
    one = case.body(records)
    pages = [case.body(page) for _ in range(max(1, records // page))]
    paged = page * len(pages)

    # The same bytes must give as many records either way (the float path loses only digits).
    expected = len(canonical(adapter.validate_json(one)))
    got = conn.parse(capability, one)
    assert len(got.items) == expected, (case.name, len(got.items), expected)

    for shape, bodies, n in (("1 body", [one], records), (f"pages of {page}", pages, paged)):

        def caudal_path(bodies: list[bytes] = bodies) -> None:
            for body in bodies:
                conn.parse(capability, body)

        def reference(bodies: list[bytes] = bodies) -> None:
            for body in bodies:
                canonical(adapter.validate_json(body))

        def ceiling(bodies: list[bytes] = bodies) -> None:
            for body in bodies:
                adapter.validate_json(body)

        t_caudal = best_of(caudal_path, repeat)
        t_ref = best_of(reference, repeat)
        t_ceil = best_of(ceiling, repeat)
        label = f"mapping {case.name}, {n:,} records in {shape}"
        results.add(
            Entry(
                f"{label}: vs reference",
                n / t_caudal,
                "records/s",
                baseline=n / t_ref,
                baseline_name="reference",
                goal_op=">=",
                goal=1.3,
            )
        )
        results.add(
            Entry(
                f"{label}: vs ceiling",
                n / t_caudal,
                "records/s",
                baseline=n / t_ceil,
                baseline_name="ceiling",
                note="reported, no goal: the ceiling builds no canonical model",
            )
        )
    if memory:
        peak_caudal = _peak(lambda: conn.parse(capability, one))
        peak_ceiling = _peak(lambda: adapter.validate_json(one))
        results.add(
            Entry(
                f"mapping {case.name}, {records:,} records in 1 body: peak memory",
                peak_caudal / 2**20,
                "MiB",
                baseline=peak_ceiling / 2**20,
                baseline_name="ceiling",
                goal_op="<=",
                goal=2.0,
            )
        )
    conn.close()
