"""What one declared value must be, from the raw value and the declaration alone.

This is not a second mapper: it computes one canonical value from one raw value at a time
(the amount of a money figure, a kind from a table), never a record, and it compares exactly:
an as-is amount digit for digit and exponent included (`10000` is not `10000.0`), a date-time
with its offset, a date as a date. A minor-units amount is compared by value and sign
(`123400` cents are `1234` or `1234.00` dollars, both correct).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ..model import minor_units, normalize_tax_id
from ..model._party import TaxScheme
from ..provenance import Map, Provenance, spell, tokens
from ._paths import MISSING, Concrete, occurrences, spell_concrete, wild_indices

__all__ = ["Expect", "check_body", "expectations", "get", "raw_items"]


def _number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | Decimal):
        return Decimal(raw)
    if isinstance(raw, str):
        try:
            return Decimal(raw)
        except InvalidOperation:
            return None
    return None


def _moment(raw: Any) -> datetime | date | None:
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw)
    except ValueError:
        return None


def _same_moment(expected: Any, actual: Any) -> bool:
    if isinstance(expected, datetime) and isinstance(actual, datetime):
        return expected == actual and expected.utcoffset() == actual.utcoffset()
    if isinstance(expected, datetime) or isinstance(actual, datetime):
        return False
    return bool(expected == actual)


def _word(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class Expect:
    """The canonical value a declared raw value must become (and how to compare it)."""

    how: str
    value: Any = None
    currency: str | None = None
    by_value: bool = False
    valid: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.how == "money":
            return f"{self.value} {self.currency}"
        if self.how == "tax id":
            return f"{self.value!r} (check digit {'valid' if self.valid else 'invalid'})"
        return repr(self.value)

    def differs(self, actual: Any, parent: Any) -> str | None:
        """Why `actual` is not this value, or None when it is."""
        if self.how == "money":
            return self._money(actual)
        if self.how == "tax id":
            if actual != self.value:
                return "another tax id"
            if getattr(parent, "tax_id_valid", self.valid) != self.valid:
                return "tax_id_valid does not match the check digit"
            return None
        if self.how == "as is":
            return None if _as_is(self.value, actual) else "not the raw value"
        if self.value is None and actual is MISSING:
            return None  # a null left out of a dict (`references`) is no value either
        return None if _word(actual) == _word(self.value) else "another value"

    def _money(self, actual: Any) -> str | None:
        amount, currency = getattr(actual, "amount", None), getattr(actual, "currency", None)
        if not isinstance(amount, Decimal) or not isinstance(self.value, Decimal):
            return "not an amount"
        if currency != self.currency:
            return f"currency {currency}, not {self.currency}"
        if self.by_value:
            same = amount == self.value and amount.is_signed() == self.value.is_signed()
            return None if same else "another amount"
        return None if amount.as_tuple() == self.value.as_tuple() else "not digit for digit"


def _as_is(raw: Any, actual: Any) -> bool:
    if isinstance(actual, bool) or actual is None:
        return actual is raw or (actual is None and raw is MISSING)
    if isinstance(actual, Decimal):
        number = _number(raw)
        return number is not None and number.as_tuple() == actual.as_tuple()
    if isinstance(actual, date):
        return _same_moment(_moment(raw), actual)
    if isinstance(actual, Enum):
        return bool(actual.value == raw)
    if isinstance(actual, int):
        return type(raw) is int and raw == actual
    if isinstance(actual, str) and isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        # A number kept as text (`152.04`, an MCC `0042`): the same value, digit for digit.
        number = _number(actual)
        return number is not None and number.as_tuple() == Decimal(raw).as_tuple()
    if isinstance(actual, str) and isinstance(raw, str) and raw != actual:
        # A date-time re-spelled (`Z` as `+00:00`) is the same value if instant and offset are.
        left, right = _moment(raw), _moment(actual)
        return left is not None and right is not None and _same_moment(left, right)
    return bool(raw == actual)


def expect(m: Map, raw: Any, currency: Any, indicator: Any, null: bool) -> Expect:
    """The expectation for one declared value, from its raw inputs."""
    if null and m.transform == "kind" and m.optional is None:
        return Expect("value", m.default)  # a null word is one more word not in the table
    if null:
        return Expect("value", m.when_null)
    if m.transform == "constant":
        return Expect("value", m.value)
    if m.transform == "kind":
        return Expect("value", m.table.get(raw, m.default) if isinstance(raw, str) else m.default)
    if m.transform == "tax id":
        tax, valid = normalize_tax_id(TaxScheme(_word(m.value)), str(raw))
        return Expect("tax id", tax, valid=valid)
    if m.transform == "money":
        return _expect_money(m, raw, m.currency or currency, indicator)
    return Expect("as is", raw)


def _expect_money(m: Map, raw: Any, currency: Any, indicator: Any) -> Expect:
    amount = _number(raw)
    if amount is None or not isinstance(currency, str):
        return Expect("money", None, str(currency))
    by_value = False
    if m.minor_units:
        exponent = minor_units(currency) if currency.isalpha() else None
        # A currency without an ISO 4217 exponent (a fund, a metal) has no minor units.
        amount = amount.scaleb(-(exponent or 0))
        by_value = True
    if m.sign is not None and indicator == m.sign.negative and not amount.is_zero():
        amount = amount.copy_negate()
    if amount.is_zero():
        amount = amount.copy_abs()
    return Expect("money", amount, currency, by_value=by_value)


# -- one body against its records -----------------------------------------------------------------


def _indices(path: Concrete, start: int) -> tuple[int, ...]:
    return tuple(p for p in path[start:] if isinstance(p, int))


def _at(found: list[tuple[Concrete, Any]], start: int, idx: tuple[int, ...]) -> Any:
    """The helper value (currency, indicator) at the longest wildcard prefix of `idx`."""
    for path, value in found:
        mine = _indices(path, start)
        if idx[: len(mine)] == mine:
            return value
    return MISSING


Expectations = dict[tuple[int, ...], tuple[Concrete | None, Expect]]


def expectations(prov: Provenance, m: Map, body: Any, item_path: Concrete) -> Expectations:
    """Per wildcard index: the raw path and the expected value of one map in one raw item."""
    if m.source is None:
        return {(): (None, expect(m, None, None, None, False))}
    absolute = m.source.startswith("$")
    root, at = (body, ()) if absolute else (get(body, item_path), item_path)
    start = len(at)

    def find(path: str | None) -> list[tuple[Concrete, Any]]:
        if path is None:
            return []
        return occurrences(root, tokens(path), at)

    currencies = find(m.currency_from)
    fallbacks = find(m.currency_else)
    indicators = find(m.sign.field if m.sign else None)
    optionals = find(m.optional)
    out: Expectations = {}
    for path, raw in find(m.source):
        idx = _indices(path, start)
        null = raw is None or raw is MISSING
        if m.optional:
            null = null or _at(optionals, start, idx) in (None, MISSING)
        currency = _at(currencies, start, idx)
        if currency in (None, MISSING) and m.currency_else:
            currency = _at(fallbacks, start, idx)
        value = expect(m, raw, currency, _at(indicators, start, idx), null)
        out[idx] = (path, value)
    return out


def get(value: Any, path: Concrete) -> Any:
    """The value at a concrete path of a JSON value or a record."""
    for part in path:
        value = getattr(value, str(part)) if isinstance(value, BaseModel) else value[part]
    return value


def _parent(record: Any, path: Concrete) -> Any:
    """The record or model holding the value at `path` (None past a null or a missing element)."""
    try:
        return get(record, path[:-1])
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def raw_items(prov: Provenance, body: Any) -> list[tuple[Concrete, Any]]:
    """The raw items that give records, in order (a null or absent container gives none)."""
    return [(p, v) for p, v in occurrences(body, tokens(prov.items)) if v not in (None, MISSING)]


def check_body(
    prov: Provenance, body: Any, result: Any, only: set[int] | None = None
) -> str | None:
    """Why `result` does not hold what the declaration says `body` gives, or None.

    `only` restricts the check to those maps (indexes into `prov.maps`).
    """
    items = raw_items(prov, body)
    records = tuple(result.items)
    k = prov.per_item
    if len(records) != len(items) * k:
        return (
            f"{len(items)} raw item(s) at {prov.items} should give {len(items) * k} record(s) "
            f"({k} each); the mapping gave {len(records)}"
        )
    for n, m in enumerate(prov.maps):
        if (only is not None and n not in only) or m.transform == "derived":
            continue  # a derived value is checked by perturbation only
        target = tokens(m.target)
        if target[0] == "result":
            problem = _compare(m, expectations(prov, m, body, ()), result, target[1:], "Result")
            if problem:
                return problem
            continue
        for i, (item_path, _) in enumerate(items):
            wanted = expectations(prov, m, body, item_path)
            chosen = range(k) if m.record is None else [m.record]
            for r in chosen:
                name = f"{type(records[i * k + r]).__name__} #{i * k + r}"
                problem = _compare(m, wanted, records[i * k + r], target, name)
                if problem:
                    return problem
    return None


def _compare(
    m: Map, wanted: Expectations, record: Any, target: tuple[str, ...], name: str
) -> str | None:
    found = occurrences(record, target)
    got = {wild_indices(path, target): (path, value) for path, value in found}
    where = f"{name}.{spell(target)}"
    paired = len(next(iter(wanted), ()))
    if target.count("*") > paired:
        # The target's further `[*]` reach every element: each element gets its source's value.
        for idx, (path, actual) in got.items():
            if idx[:paired] not in wanted:
                return f"{where}[{idx}] has no raw value ({m.describe()})"
            raw_path, expected = wanted[idx[:paired]]
            why = expected.differs(actual, _parent(record, path))
            if why:
                source = spell_concrete(raw_path) if raw_path is not None else "(constant)"
                return (
                    f"raw {source} -> {name}.{spell_concrete(path)[2:]}: expected {expected}, "
                    f"got {actual!r} ({why}; declared: {m.describe()})"
                )
        return None
    if set(got) != set(wanted):
        raws = sorted(spell_concrete(p) for p, _ in wanted.values() if p is not None)
        return (
            f"{len(wanted)} raw value(s) {raws[:4]} should reach {len(wanted)} target(s) "
            f"{where} ({m.describe()}); the record has {len(got)}"
        )
    for idx, (raw_path, expected) in wanted.items():
        path, actual = got[idx]
        why = expected.differs(actual, _parent(record, path))
        if why:
            source = spell_concrete(raw_path) if raw_path is not None else "(constant)"
            shown = spell_concrete(path)[2:]
            return (
                f"raw {source} -> {name}.{shown}: expected {expected}, got {actual!r} "
                f"({why}; declared: {m.describe()})"
            )
    return None
