"""Walking declared paths over raw JSON values, canonical records and raw types.

A pattern is a tuple of tokens (`("Data", "Balance", "*", "Amount")`); a concrete path has an
index where the pattern has `*`. The same walk reads a JSON body (dicts and lists) and a
canonical record (pydantic models, tuples, dicts), so the kit never needs the mapping code to
tell it where a value went.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = [
    "MISSING",
    "Concrete",
    "Pattern",
    "leaves",
    "matches",
    "occurrences",
    "raw_leaves",
    "record_has",
    "replace",
    "spell_concrete",
    "wild_indices",
]

Pattern = tuple[str, ...]
Concrete = tuple[str | int, ...]
MAX_DEPTH = 32
"""Deeper raw types or values are not walked (bodies and models are shallow; this bounds it)."""


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()
"""The value of a path whose key is absent (a null is `None`)."""


def _child(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, BaseModel):
        return getattr(value, key, MISSING)
    return MISSING


def occurrences(value: Any, pattern: Pattern, at: Concrete = ()) -> list[tuple[Concrete, Any]]:
    """Every (concrete path, value) the pattern reaches; a null or absent step ends there."""
    if not pattern:
        return [(at, value)]
    if value is None or value is MISSING or len(at) > MAX_DEPTH:
        # A null or absent step: the pattern's value there is that null (a list has no items).
        return [] if "*" in pattern else [(at + tuple(pattern), value)]
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if not isinstance(value, list | tuple):
            return []
        found: list[tuple[Concrete, Any]] = []
        for i, item in enumerate(value):
            found += occurrences(item, rest, (*at, i))
        return found
    if "=" in head and isinstance(value, list | tuple):
        # `key=value`: the element whose key is that value; none reads as null.
        key, wanted = head.split("=", 1)
        chosen = [i for i, item in enumerate(value) if _word(_child(item, key)) == wanted]
        if not chosen:
            return [] if "*" in rest else [((*at, head, *rest), None)]
        found = []
        for i in chosen:
            found += occurrences(value[i], rest, (*at, i))
        return found
    return occurrences(_child(value, head), rest, (*at, head))


def _word(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def wild_indices(path: Concrete, pattern: Pattern) -> tuple[int, ...]:
    """The indices of a concrete path at the pattern's `*` steps (a `key=value` step's index
    is not one: it names a single element)."""
    return tuple(c for p, c in zip(pattern, path, strict=False) if p == "*" and isinstance(c, int))


def matches(pattern: Pattern, path: Concrete) -> bool:
    """Whether a concrete path is an instance of the pattern (`*` matches any index)."""
    return len(pattern) == len(path) and all(
        (p == "*" and isinstance(c, int)) or p == c for p, c in zip(pattern, path, strict=True)
    )


def starts_with(pattern: Pattern, path: Concrete) -> bool:
    """Whether the concrete path lies under the pattern (or is it)."""
    return len(path) >= len(pattern) and matches(pattern, path[: len(pattern)])


def leaves(value: Any, at: Concrete = ()) -> Iterator[tuple[Concrete, Any]]:
    """Every leaf of a JSON value or record: (concrete path, value); empty containers too."""
    if len(at) > MAX_DEPTH:
        return
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from leaves(getattr(value, name), (*at, name))
    elif isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*at, str(key)))
    elif isinstance(value, list | tuple) and value:
        for i, item in enumerate(value):
            yield from leaves(item, (*at, i))
    else:
        yield at, value


def replace(value: Any, path: Concrete, new: Any) -> Any:
    """A copy of a JSON value or record with the value at `path` replaced (MISSING deletes)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, BaseModel):
        return value.model_copy(update={str(head): replace(getattr(value, str(head)), rest, new)})
    if isinstance(value, dict):
        out = dict(value)
        if not rest and new is MISSING:
            out.pop(str(head), None)
        else:
            out[str(head)] = replace(value.get(str(head)), rest, new)
        return out
    if isinstance(value, list | tuple):
        items = list(value)
        items[int(head)] = replace(items[int(head)], rest, new)
        return tuple(items) if isinstance(value, tuple) else items
    return value


def spell_concrete(path: Sequence[str | int]) -> str:
    """`("Data", "Balance", 0, "Amount")` -> `$.Data.Balance[0].Amount`."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) or "=" in part else f".{part}"
    return out


# -- types --------------------------------------------------------------------------------------


def _unwrap(tp: Any) -> list[Any]:
    """The alternatives a type stands for (Annotated and Optional unwrapped, None dropped)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [alt for arg in get_args(tp) for alt in _unwrap(arg)]
    return [] if tp is type(None) else [tp]


def _key(name: str, info: Any) -> str:
    alias = info.validation_alias
    return alias if isinstance(alias, str) else (info.alias or name)


def raw_leaves(tp: Any, at: Pattern = ()) -> set[Pattern]:
    """Every leaf field pattern of a raw body type (pydantic models, lists, unions)."""
    found: set[Pattern] = set()
    if len(at) > MAX_DEPTH:
        return found
    for alt in _unwrap(tp):
        origin = get_origin(alt)
        if origin in (list, tuple, typing.Sequence):
            found |= raw_leaves(get_args(alt)[0], (*at, "*"))
        elif isinstance(alt, type) and issubclass(alt, BaseModel):
            for name, info in alt.model_fields.items():
                found |= raw_leaves(info.annotation, (*at, _key(name, info)))
        else:
            found.add(at)
    return found


def record_has(tp: Any, pattern: Pattern) -> bool:
    """Whether a record type has a field at the pattern (`breakdown[*].amount`, `references.x`)."""
    if not pattern:
        return True
    head, rest = pattern[0], pattern[1:]
    for alt in _unwrap(tp):
        origin = get_origin(alt)
        if origin is dict:
            return record_has(get_args(alt)[1], rest)
        if origin in (list, tuple, typing.Sequence) and (head == "*" or "=" in head):
            if "=" in head and not record_has(get_args(alt)[0], (head.split("=", 1)[0],)):
                return False
            return record_has(get_args(alt)[0], rest)
        if isinstance(alt, type) and issubclass(alt, BaseModel) and head in alt.model_fields:
            return record_has(alt.model_fields[head].annotation, rest)
    return False
