"""Building canonical records from values a raw model has already validated, without validating
them a second time.

A mapper reads the provider's body through its raw models (every amount a `Decimal` from the
JSON text, every currency checked against ISO 4217, every date-time with its offset) and then
builds canonical records from those values. Validating them again changes nothing (the values
are already of the canonical fields' types) and costs as much as the raw parse: a `Money` takes
1.2 µs validated, 0.85 µs through `trusted()` and 0.45 µs through a `builder()`. Both build
the very object that validated construction would build, field for field.

Only values that have been validated (by a raw model or by caudal's own code) may go through
them. `verify_trusted(True)` makes every such record also be built the validated way and fail
loudly if the two differ; caudal's own test suite runs that way, so every mapping property test
checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["builder", "trusted", "verify_trusted"]

M = TypeVar("M", bound=BaseModel)

# BaseModel keeps these three in slots; their descriptors set them without the frozen check.
_SLOTS = {
    name: BaseModel.__dict__[name].__set__
    for name in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
}
_verify = [False]
"""A list so generated builders read the current setting without a global lookup by name."""

_BUILDERS: dict[tuple[type[BaseModel], tuple[str, ...]], Callable[..., Any]] = {}


def verify_trusted(enabled: bool) -> None:
    """Check every trusted record against validated construction (for test suites)."""
    _verify[0] = enabled


def trusted(cls: type[M], /, **values: Any) -> M:
    """`cls(**values)` without validating `values` again: they must be validated already.

    Fields left out take their defaults (a fresh one from a default factory); a missing
    required field or an unknown one is a `TypeError`, as it would be a validation error.
    """
    build = _BUILDERS.get((cls, tuple(values)))
    if build is None:
        build = builder(cls, *values)
    record: M = build(**values)
    return record


def builder(cls: type[M], /, *names: str) -> Callable[..., M]:
    """A function building `cls` from already-validated values of the fields `names`, in order.

    For mappers' inner loops: `money = builder(Money, "amount", "currency")` once, then
    `money(amount, currency)` (or with keywords) per record, at about a third of the cost of
    validated construction. The combination of fields is checked here, once; the other
    fields take their defaults, and `model_fields_set` is `names`, as validation would set it.
    """
    key = (cls, names)
    cached = _BUILDERS.get(key)
    if cached is None:
        cached = _BUILDERS[key] = _generate(cls, names)
    return cached


def _generate(cls: type[BaseModel], names: tuple[str, ...]) -> Callable[..., Any]:
    fields = cls.model_fields
    unknown = sorted(set(names) - fields.keys())
    missing = sorted(n for n, f in fields.items() if f.is_required() and n not in names)
    if unknown or missing or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
    if cls.__private_attributes__ or cls.__pydantic_post_init__:
        raise TypeError(f"{cls.__name__}: private attributes or post-init need validation")
    # The generated code only ever names the model's own fields (Python identifiers, checked
    # by pydantic) and the namespace below: no provider value reaches it.
    namespace: dict[str, Any] = {
        "cls": cls,
        "new": cls.__new__,
        "set_dict": object.__setattr__,
        "set_fields_set": _SLOTS["__pydantic_fields_set__"],
        "set_extra": _SLOTS["__pydantic_extra__"],
        "set_private": _SLOTS["__pydantic_private__"],
        # One shared `model_fields_set`: a set of a few names costs about 400 bytes, more than
        # a record's own fields. Safe because records are frozen and pydantic only ever mutates
        # a copy of it (`model_copy` copies it before adding the updated names).
        "fields_set": set(names),
        "verify": _verify,
        "check": _check,
    }
    entries = []
    for name, info in fields.items():
        if name in names:
            entries.append(f"{name!r}: {name}")
        elif info.default_factory is not None:
            namespace[f"make_{name}"] = info.default_factory
            entries.append(f"{name!r}: make_{name}()")
        elif _hashable(info.default):
            namespace[f"default_{name}"] = info.default
            entries.append(f"{name!r}: default_{name}")
        else:  # pydantic copies a mutable default for each instance; so does this
            namespace[f"default_{name}"] = info.default
            namespace["deepcopy"] = deepcopy
            entries.append(f"{name!r}: deepcopy(default_{name})")
    given = ", ".join(f"{n!r}: {n}" for n in names)
    source = (
        f"def build({', '.join(names)}):\n"
        f"    record = new(cls)\n"
        f"    set_dict(record, '__dict__', {{{', '.join(entries)}}})\n"
        f"    set_fields_set(record, fields_set)\n"
        f"    set_extra(record, None)\n"
        f"    set_private(record, None)\n"
        f"    if verify[0]:\n"
        f"        check(cls, {{{given}}}, record)\n"
        f"    return record\n"
    )
    exec(source, namespace)  # noqa: S102 - see the note on the namespace above
    build: Callable[..., Any] = namespace["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build


def _hashable(value: object) -> bool:
    # A hashable default (None, a string, an empty tuple) can be shared between records, as
    # pydantic shares it.
    try:
        hash(value)
    except TypeError:
        return False
    return True


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
