"""Golden examples: a provider-documentation body and the records it must give, by hand.

They are the independent oracle of a mapping: the expected records are written out by a person
reading the provider's documentation, never computed by the code under test. Every field is
compared exactly: a Decimal by its digits and exponent (`10000` is not `10000.0`), a
date-time with its offset, a date as a date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ._paths import leaves, spell_concrete

__all__ = ["Golden", "differences", "exact"]


@dataclass(frozen=True)
class Golden:
    """A body from the provider's documentation and the canonical records it gives."""

    body: str
    records: Sequence[BaseModel]
    source: str = "the provider documentation"
    """Where the body comes from (a page, a section), shown when the example fails."""
    notes: Sequence[str] | None = None
    """The Result's notes, when the example should check them too."""


def exact(value: Any) -> Any:
    """A value whose equality is exact equality: digits, exponent, offset and type included."""
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, date):
        return ("date", value.isoformat())
    if isinstance(value, Enum):
        return (type(value).__name__, value.value)
    return (type(value).__name__, value)


def differences(expected: Sequence[Any], actual: Sequence[Any], limit: int = 10) -> list[str]:
    """Every field (up to `limit`) where the records differ, with both values."""
    found: list[str] = []
    if len(expected) != len(actual):
        found.append(f"{len(actual)} record(s), the example gives {len(expected)}")
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        for line in _record_differences(i, want, got):
            found.append(line)
            if len(found) >= limit:
                return found
    return found


def _record_differences(i: int, want: Any, got: Any) -> Iterator[str]:
    if type(want) is not type(got):
        yield f"record #{i}: a {type(got).__name__}, the example gives a {type(want).__name__}"
        return
    mine, theirs = dict(leaves(want)), dict(leaves(got))
    for path in sorted(set(mine) | set(theirs), key=str):
        a, b = mine.get(path), theirs.get(path)
        if exact(a) != exact(b):
            where = spell_concrete(path).replace("$", f"{type(want).__name__} #{i}", 1)
            yield f"{where}: expected {a!r}, got {b!r}"
