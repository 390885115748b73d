"""Belvo balance objects -> canonical `Balance` records, three per account.

Each raw account carries three figures, mapped one-to-one:

    available               -> kind `available` (signed: an overdrawn account is negative)
    blocked                 -> kind `blocked`
    automatically_invested  -> kind `invested`

Following Open Finance Brasil, the automatically invested amount may include the available
one: they are separate figures of the same account, never parts of a total to be summed.
Every figure keeps Belvo's amount digit for digit and `last_updated_at` (with its offset) as
`as_of`; Belvo's identifiers and timestamps that have no canonical field are kept in
`references` so nothing Belvo said is dropped.

The raw models have validated every value (exact `Decimal` amounts, ISO 4217 currency, offset
date-times), so the canonical records are built with `caudal.model.builder`, not validated a
second time: mapping 100k accounts took about a third of the time.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from caudal import Balance, BalanceKind, Call, Money, Reply, Result
from caudal.mapping import decode, map_items, stream_list
from caudal.model import builder
from caudal.provenance import Provenance, as_is, constant, money

from .raw import RawBalance

__all__ = ["BALANCE_PROVENANCE", "INVESTED_NOTE", "FIGURES", "balances_of", "read_balances"]

BALANCES = TypeAdapter(RawBalance)
"""One item of a balances body (a JSON array), validated as it is reached."""

FIGURES: tuple[tuple[str, BalanceKind], ...] = (
    ("available", BalanceKind.AVAILABLE),
    ("blocked", BalanceKind.BLOCKED),
    ("automatically_invested", BalanceKind.INVESTED),
)
"""Belvo's key for each figure (kept as `provider_kind`) and its canonical kind, in output order."""

INVESTED_NOTE = (
    "belvo.br: the invested figure (automatically_invested) may include the available one; "
    "the three balances of an account are separate figures, not parts to be summed"
)


REFERENCES = ("id", "link", "account_internal_identification", "collected_at", "created_at")
"""Belvo's keys kept in `Balance.references` (exact strings; timestamps in ISO 8601)."""


def references_of(raw: RawBalance) -> dict[str, str]:
    """Belvo's identifiers (exact strings) and timestamps that have no canonical field."""
    return {
        "id": raw.id,
        "link": raw.link,
        "account_internal_identification": raw.account_internal_identification,
        "collected_at": raw.collected_at.isoformat(),
        "created_at": raw.created_at.isoformat(),
    }


_MONEY = builder(Money, "amount", "currency")
_RESULT = builder(Result[Balance], "connector", "capability", "items", "notes", "raw")
_BALANCE = builder(Balance, "account_id", "kind", "provider_kind", "amount", "as_of", "references")


def balances_of(raw: RawBalance) -> tuple[Balance, ...]:
    """The three canonical figures of one Belvo account."""
    references = references_of(raw)
    currency = raw.currency
    as_of = raw.last_updated_at
    account_id = raw.account_id
    return tuple(
        _BALANCE(
            account_id=account_id,
            kind=kind,
            provider_kind=key,
            amount=_MONEY(getattr(raw, key), currency),
            as_of=as_of,
            references=references,
        )
        for key, kind in FIGURES
    )


# -- declared provenance (checked by caudal's test kit, shown on the connector's page) ---------

BALANCE_PROVENANCE = Provenance(
    "balance",
    raw=list[RawBalance],
    items="$[*]",
    per_item=len(FIGURES),
    maps=(
        as_is("account_id", "account_id"),
        as_is("last_updated_at", "as_of"),
        *(
            each
            for record, (key, kind) in enumerate(FIGURES)
            for each in (
                money(key, "amount", currency_from="currency", record=record),
                constant("kind", kind, record=record),
                constant("provider_kind", key, record=record),
            )
        ),
        *(as_is(key, f"references.{key}") for key in REFERENCES),
    ),
)


def read_balances(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """A 200 or 201 body (a JSON array of accounts) -> one Result, three records per account."""
    accounts = stream_list(decode(reply.body, call), BALANCES, call)
    built = map_items(accounts, balances_of, call, "$")
    items = [b for three in built for b in three]
    return _RESULT(
        connector=call.connector,
        capability=call.capability,
        items=tuple(items),
        notes=(INVESTED_NOTE,) if items else (),
        raw=reply.body.decode("utf-8") if call.keep_raw else None,
    )
