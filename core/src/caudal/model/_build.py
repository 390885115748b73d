"""Building canonical records from values a raw model has already validated, without validating
them a second time.

A mapper reads the provider's body through its raw models (every amount a `Decimal` from the
JSON text, every currency checked against ISO 4217, every date-time with its offset) and then
builds canonical records from those values. Validating them again changes nothing (the values
are already of the canonical fields' types) and costs as much as the raw parse: a `Money` takes
about 1.2 µs validated, 0.5 µs here. `trusted()` builds the very object that validated
construction would build, field for field.

Only values that have been validated (by a raw model or by caudal's own code) may go through
it. `verify_trusted(True)` makes every `trusted()` call also build the record the validated way
and fail loudly if the two differ; caudal's own test suite runs that way, so every mapping
property test checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["trusted", "verify_trusted"]

M = TypeVar("M", bound=BaseModel)

Builder = Callable[[dict[str, Any]], Any]

_set = object.__setattr__
# BaseModel keeps these three in slots; their descriptors set them without the frozen check.
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_verify = False

_BUILDERS: dict[tuple[type[BaseModel], tuple[str, ...]], Builder] = {}


def verify_trusted(enabled: bool) -> None:
    """Check every `trusted()` record against validated construction (for test suites)."""
    global _verify
    _verify = enabled


def trusted(cls: type[M], /, **values: Any) -> M:
    """`cls(**values)` without validating `values` again: they must be validated already.

    Fields left out take their defaults (a fresh one from a default factory); a missing
    required field or an unknown one is a `TypeError`, as it would be a validation error.
    """
    build = _BUILDERS.get((cls, tuple(values)))
    if build is None:
        build = _builder(cls, tuple(values))
    record: M = build(values)
    if _verify:
        _check(cls, values, record)
    return record


def _builder(cls: type[BaseModel], names: tuple[str, ...]) -> Builder:
    """The builder for one class and one combination of given fields, checked once.

    Mappers build hundreds of thousands of records from the same few field combinations, so
    everything that depends only on the combination (which fields are missing, the defaults,
    the field order, the `model_fields_set`) is worked out here, the first time.
    """
    fields = cls.model_fields
    unknown = sorted(set(names) - fields.keys())
    missing = sorted(n for n, f in fields.items() if f.is_required() and n not in names)
    if unknown or missing or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
    if cls.__private_attributes__ or cls.__pydantic_post_init__:
        raise TypeError(f"{cls.__name__}: private attributes or post-init need validation")
    # One shared `model_fields_set`: a set of a few names costs about 400 bytes, more than a
    # record's own fields. Safe because records are frozen and pydantic only ever mutates a
    # copy of it (`model_copy` copies it before adding the updated names).
    fields_set = set(names)
    order = tuple(fields)
    if names == order:
        build = partial(_build_given, cls, fields_set)
    else:
        template = {n: None if n in names else fields[n].default for n in order}
        fresh = tuple(
            (n, fields[n].default_factory or partial(deepcopy, fields[n].default))
            for n in order
            if n not in names
            and (fields[n].default_factory is not None or not _hashable(fields[n].default))
        )
        build = partial(_build_filled, cls, fields_set, template, fresh)
    _BUILDERS[(cls, names)] = build
    return build


def _hashable(value: object) -> bool:
    # A hashable default (None, a string, an empty tuple) can be shared between records, as
    # pydantic shares it; any other is copied per record, as pydantic copies it.
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _build_given(cls: type[BaseModel], fields_set: set[str], values: dict[str, Any]) -> Any:
    # Every field given, in declaration order: the keyword dict itself becomes the record's.
    record = cls.__new__(cls)
    _set(record, "__dict__", values)
    _set_fields_set(record, fields_set)
    _set_extra(record, None)
    _set_private(record, None)
    return record


def _build_filled(
    cls: type[BaseModel],
    fields_set: set[str],
    template: dict[str, Any],
    fresh: tuple[tuple[str, Callable[[], Any]], ...],
    values: dict[str, Any],
) -> Any:
    data = template.copy()
    data.update(values)
    for name, factory in fresh:
        data[name] = factory()
    record = cls.__new__(cls)
    _set(record, "__dict__", data)
    _set_fields_set(record, fields_set)
    _set_extra(record, None)
    _set_private(record, None)
    return record


def _check(cls: type[M], values: dict[str, Any], record: M) -> None:
    validated = cls(**values)
    for name in cls.model_fields:
        mine, theirs = getattr(record, name), getattr(validated, name)
        fresh = name not in values and cls.model_fields[name].default_factory is not None
        if type(mine) is not type(theirs) or (not fresh and mine != theirs):
            raise AssertionError(
                f"trusted {cls.__name__}.{name} differs from validated construction: "
                f"{mine!r} ({type(mine).__name__}) != {theirs!r} ({type(theirs).__name__})"
            )
    if validated.model_fields_set != record.model_fields_set:
        raise AssertionError(f"trusted {cls.__name__} has other fields set than validated")
    if list(validated.__dict__) != list(record.__dict__):
        raise AssertionError(f"trusted {cls.__name__} keeps its fields in another order")
