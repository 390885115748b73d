"""Building canonical records from values a raw model has already validated, without validating
them a second time.

A mapper reads the provider's body through its raw models (every amount a `Decimal` from the
JSON text, every currency checked against ISO 4217, every date-time with its offset) and then
builds canonical records from those values. Validating them again costs more than the whole
raw parse (a `Balance` with its `Money` about 5 µs; this about 1 µs) and changes nothing: the
values are already of the canonical fields' types. `trusted()` builds the very object that
validated construction would build, field for field.

Only values that have been validated (by a raw model or by caudal's own code) may go through
it. `verify_trusted(True)` makes every `trusted()` call also build the record the validated way
and fail loudly if the two differ; caudal's own test suite runs that way, so every mapping
property test checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["trusted", "verify_trusted"]

M = TypeVar("M", bound=BaseModel)

_set = object.__setattr__
_verify = False


@dataclass(frozen=True, slots=True)
class _Spec:
    template: dict[str, Any]
    """Every field in declaration order (repr and dumps follow it), plain defaults filled in."""
    required: frozenset[str]
    factories: tuple[tuple[str, Callable[[], Any]], ...]


_SPECS: dict[type[BaseModel], _Spec] = {}


def _spec(cls: type[BaseModel]) -> _Spec:
    template: dict[str, Any] = {}
    required = set()
    factories = []
    for name, info in cls.model_fields.items():
        if info.is_required():
            required.add(name)
            template[name] = None
        elif info.default_factory is not None:
            factories.append((name, info.default_factory))
            template[name] = None
        else:
            template[name] = info.default
    spec = _Spec(template, frozenset(required), tuple(factories))  # type: ignore[arg-type]
    _SPECS[cls] = spec
    return spec


_FIELDS_SETS: dict[tuple[type[BaseModel], tuple[str, ...]], set[str]] = {}


def _fields_set(cls: type[BaseModel], values: dict[str, Any]) -> set[str]:
    """One shared `model_fields_set` per class and set of given fields.

    A set of a few names costs about 400 bytes, more than the record's own fields; a mapper
    builds hundreds of thousands of records from the same few field combinations. Sharing is
    safe because the records are frozen: pydantic only ever mutates a *copy* of this set
    (`model_copy` copies it before adding the updated names).
    """
    key = (cls, tuple(values))
    shared = _FIELDS_SETS.get(key)
    if shared is None:
        shared = _FIELDS_SETS[key] = set(values)
    return shared


def verify_trusted(enabled: bool) -> None:
    """Check every `trusted()` record against validated construction (for test suites)."""
    global _verify
    _verify = enabled


def trusted(cls: type[M], /, **values: Any) -> M:
    """`cls(**values)` without validating `values` again: they must be validated already.

    Fields left out take their defaults (a fresh one from a default factory); a missing
    required field or an unknown one is a `TypeError`, as it would be a validation error.
    """
    spec = _SPECS.get(cls) or _spec(cls)
    data = {**spec.template, **values}
    if len(data) != len(spec.template) or not values.keys() >= spec.required:
        unknown = sorted(values.keys() - spec.template.keys())
        missing = sorted(spec.required - values.keys())
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
    for name, factory in spec.factories:
        if name not in values:
            data[name] = factory()
    record = cls.__new__(cls)
    _set(record, "__dict__", data)
    _set(record, "__pydantic_fields_set__", _fields_set(cls, values))
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    if _verify:
        _check(cls, values, record)
    return record


def _check(cls: type[M], values: dict[str, Any], record: M) -> None:
    validated = cls(**values)
    fresh = {name for name, _ in _SPECS[cls].factories if name not in values}
    for name in cls.model_fields:
        mine, theirs = getattr(record, name), getattr(validated, name)
        if type(mine) is not type(theirs) or (name not in fresh and mine != theirs):
            raise AssertionError(
                f"trusted {cls.__name__}.{name} differs from validated construction: "
                f"{mine!r} ({type(mine).__name__}) != {theirs!r} ({type(theirs).__name__})"
            )
    if validated.model_fields_set != record.model_fields_set:
        raise AssertionError(f"trusted {cls.__name__} has other fields set than validated")
