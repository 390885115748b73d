"""Declared provenance: where each canonical value of a capability comes from.

A connector declares, per capability, a small table: the raw field (a JSON path), the transform
(as is; money in a fixed currency or one read from another field, optionally integer minor
units divided by the currency's ISO 4217 exponent, optionally signed by an indicator field; a
kind table; a tax id; a constant), and the canonical target (record field, nested with `.` and
`[*]`, and which record when one raw item gives several). Raw fields it deliberately does not
carry are declared `ignored`, with the reason.

The declaration is never executed as a second mapper. The test kit (`caudal.testing`) checks
the mapping code against it (conservation, perturbation, scale, sign and kind, nulls), checks
that every raw field is either mapped or ignored, and the documentation renders it as the
connector page's "How it maps" section. So a dropped field is always a decision someone wrote
down, and a wrong figure fails a property that names the raw field and its target.

    from caudal.provenance import Provenance, Sign, as_is, ignored, money

    BALANCE = Provenance(
        "balance",
        raw=list[RawAccount],
        items="$[*]",
        maps=(
            as_is("id", "account_id"),
            money("balance_cents", "amount", currency_from="currency", minor_units=True,
                  sign=Sign("direction", negative="DR", positive="CR")),
            as_is("updated_at", "as_of"),
        ),
        ignored=(ignored("branch", "the branch code has no canonical field"),),
    )

Paths: `$.a.b[*]` is absolute (from the body's root); anything else is relative to the raw
item. `[*]` in a source pairs, in order, with the `[*]` of its target (`Details[*].Amount` ->
`breakdown[*].amount`); a target's further `[*]` reach every element (`id` ->
`balances[*].account_id`). A target step `[key=value]` is the element of a list whose `key` is
`value` (`balances[provider_kind=current].amount`); no such element reads as null. A target
starting with `result.` is a field of the `Result` (`result.operation_id`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "Map",
    "Ignored",
    "Provenance",
    "Sign",
    "as_is",
    "constant",
    "declared",
    "derived",
    "ignored",
    "kind",
    "money",
    "tax_id",
    "tokens",
]

_TOKEN = re.compile(r"\[\*\]|[^.\[\]]+")


def tokens(path: str) -> tuple[str, ...]:
    """`$.Data.Balance[*].Amount` -> `("Data", "Balance", "*", "Amount")` (`$` dropped)."""
    text = path[1:] if path.startswith("$") else path
    return tuple("*" if t == "[*]" else t for t in _TOKEN.findall(text))


def spell(parts: Iterable[str]) -> str:
    """The inverse of `tokens`, without the leading `$`: `Data.Balance[*].Amount`."""
    out = ""
    for part in parts:
        if part == "*" or "=" in part:
            out += "[*]" if part == "*" else f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True)
class Sign:
    """The sign lives in another raw field: `negative` means the amount is negated.

    A zero stays a plain zero whatever the indicator (never `-0`).
    """

    field: str
    negative: str
    positive: str


@dataclass(frozen=True)
class Map:
    """One canonical value and where it comes from (build with `as_is`, `money`, ...)."""

    source: str | None
    """The raw field (JSON path); None for a constant."""
    target: str
    """The record field (`amount`, `breakdown[*].amount`, `employer.tax_id`, `result.x`)."""
    transform: str
    """`as is`, `money`, `kind`, `tax id`, `constant` or `derived`."""
    record: int | None = None
    """Which record of the raw item's records (0-based); None: every one of them."""
    currency: str | None = None
    currency_from: str | None = None
    currency_else: str | None = None
    """Where the currency is read when `currency_from` is null or absent."""
    minor_units: bool = False
    sign: Sign | None = None
    table: Mapping[str, Any] = field(default_factory=dict)
    default: Any = None
    """A kind table's value for any provider word not in the table."""
    value: Any = None
    """A constant's value; a tax id's scheme."""
    optional: str | None = None
    """A raw path that may be null or absent; the target is then `when_null`."""
    when_null: Any = None
    how: str | None = None
    """A derived value's rule, in words."""

    def inputs(self) -> tuple[str, ...]:
        """Every raw path this value is computed from."""
        found = [
            self.source,
            self.currency_from,
            self.currency_else,
            self.sign.field if self.sign else None,
        ]
        return tuple(p for p in found if p)

    def describe(self) -> str:
        """The transform in words, for documentation and failure messages."""
        if self.transform == "money":
            where = (
                f"currency {self.currency}"
                if self.currency
                else f"currency from {self.currency_from}"
            )
            if self.currency_else:
                where += f", else from {self.currency_else}"
            text = f"money, {where}"
            if self.minor_units:
                text += ", integer minor units divided by 10^(ISO 4217 exponent)"
            if self.sign:
                text += f", negative when {self.sign.field} is {self.sign.negative}"
            return text
        if self.transform == "kind":
            pairs = ", ".join(f"{k} -> {_word(v)}" for k, v in self.table.items())
            return f"kind table ({pairs}; anything else -> {_word(self.default)})"
        if self.transform == "tax id":
            return f"tax id ({_word(self.value)}), normalized, check digit flagged"
        if self.transform == "constant":
            return f"always {_word(self.value)}"
        if self.transform == "derived":
            return f"derived: {self.how}"
        return "as is"


def _word(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


@dataclass(frozen=True)
class Ignored:
    """A raw field (and everything under it) deliberately not carried, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Provenance:
    """Every canonical value of one capability: where it comes from, and what is not carried.

    `raw` is the type of the whole raw body (a pydantic model, or `list[Model]`); `items` the
    JSON path of the raw items that give records (`$.Data.Balance[*]`, `$[*]`, or one object
    `$.Data.ContributionsBalance`); each item gives `per_item` records, in order.
    """

    capability: str
    raw: Any
    items: str
    maps: tuple[Map, ...]
    ignored: tuple[Ignored, ...] = ()
    per_item: int = 1

    def __post_init__(self) -> None:
        for each in self.maps:
            if each.source is not None and tokens(each.target)[0] != "result":
                wild_source = tokens(each.source).count("*")
                wild_target = tokens(each.target).count("*")
                if wild_source > wild_target:
                    raise ValueError(
                        f"{self.capability}: {each.source} has {wild_source} [*], its target "
                        f"{each.target} has {wild_target}: they must pair up"
                    )
            if each.record is not None and not 0 <= each.record < self.per_item:
                raise ValueError(f"{self.capability}: record {each.record} of {self.per_item}")

    def absolute(self, path: str) -> tuple[str, ...]:
        """The tokens of `path` from the body's root (relative paths start at the items)."""
        if path.startswith("$"):
            return tokens(path)
        return tokens(self.items) + tokens(path)

    def rows(self) -> list[tuple[str, str, str]]:
        """(raw field, transform, canonical target) for each declared value, for the docs."""
        rows = []
        for each in self.maps:
            source = "" if each.source is None else spell(self.absolute(each.source))
            target = each.target
            if each.record is not None:
                target += f" (record {each.record + 1} of {self.per_item})"
            text = each.describe()
            if each.optional:
                text += (
                    f"; null or absent {spell(self.absolute(each.optional))} -> {each.when_null}"
                )
            rows.append((source, text, target))
        return rows


def as_is(
    source: str,
    target: str,
    *,
    record: int | None = None,
    optional: str | None = None,
    when_null: Any = None,
) -> Map:
    """The raw value, unchanged (a number digit for digit; a date-time with its offset)."""
    return Map(source, target, "as is", record, optional=optional, when_null=when_null)


def money(
    source: str,
    target: str,
    *,
    currency: str | None = None,
    currency_from: str | None = None,
    currency_else: str | None = None,
    minor_units: bool = False,
    sign: Sign | None = None,
    record: int | None = None,
    optional: str | None = None,
    when_null: Any = None,
) -> Map:
    """An amount: in a fixed `currency` or one read from the raw field `currency_from`;
    `minor_units=True` for integers in the currency's minor units (USD 123456 = 1234.56);
    `currency_else` is read when `currency_from` is null or absent."""
    if (currency is None) == (currency_from is None):
        raise ValueError(f"{source}: give exactly one of currency= and currency_from=")
    if currency_else is not None and currency_from is None:
        raise ValueError(f"{source}: currency_else= needs currency_from=")
    return Map(
        source,
        target,
        "money",
        record,
        currency=currency,
        currency_from=currency_from,
        currency_else=currency_else,
        minor_units=minor_units,
        sign=sign,
        optional=optional,
        when_null=when_null,
    )


def kind(
    source: str, target: str, table: Mapping[str, Any], *, default: Any, record: int | None = None
) -> Map:
    """A provider word through a table (`ClosingBooked` -> `booked`), `default` for the rest."""
    return Map(source, target, "kind", record, table=dict(table), default=default)


def tax_id(source: str, target: str, scheme: Any, *, record: int | None = None) -> Map:
    """A tax id in `scheme` (`TaxScheme.CL_RUT`), normalized; the check digit is flagged."""
    return Map(source, target, "tax id", record, value=scheme)


def constant(target: str, value: Any, *, record: int | None = None) -> Map:
    """A value fixed by the capability (afc.cl's balance is always `booked`)."""
    return Map(None, target, "constant", record, value=value)


def derived(source: str, target: str, how: str, *, record: int | None = None) -> Map:
    """A value the raw field decides by a rule no other transform states (`how`, in words).

    Checked by perturbation only (changing the raw field changes nothing but `target`, and
    everything under it); what the value is, the golden examples and the connector's own
    tests say. Use it for what is really not expressible, never for convenience.
    """
    return Map(source, target, "derived", record, how=how)


def ignored(path: str, reason: str) -> Ignored:
    """A raw field deliberately not carried into any canonical field, and why."""
    return Ignored(path, reason)


def declared(connector: type) -> dict[str, Provenance]:
    """A connector class's declarations (its `provenance` attribute), by capability."""
    found: Iterable[Provenance] = getattr(connector, "provenance", ())
    return {p.capability: p for p in found}
