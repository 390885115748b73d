"""Field checks that pydantic-core runs natively, each failing with one clear message.

A Python validator costs a call per value (0.2 to 2.5 µs: at 100k records a quarter of the
mapping time); these are built from pydantic-core's own schemas (unions, chains, patterns), so
a raw record is checked without leaving Rust. Each is `Annotated` metadata, so a type reads as
the plain Python type it produces, and its JSON Schema is that plain type's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

__all__ = [
    "DateOrOffsetDateTime",
    "MAX_INTEGER_DIGITS",
    "ExactDecimal",
    "IsoDate",
    "NativeCheck",
    "OffsetDateTime",
    "UnsignedDecimal",
    "WholeDecimal",
]


@dataclass(frozen=True, slots=True, eq=False)
class NativeCheck:
    """`Annotated` metadata: validate with `schema`, describe (JSON Schema) as `shown_as`.

    Compared and hashed by identity (`typing` hashes `Annotated` metadata; schemas are dicts).
    """

    name: str
    """Short name of the check (docs list what each field guarantees by it)."""
    schema: CoreSchema
    shown_as: CoreSchema
    ge: int | None = None
    """A lower bound the check enforces (read by the test kit's strategies, like `Field(ge=)`)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return self.schema

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.shown_as)


def _one_error(name: str, message: str, *members: CoreSchema) -> CoreSchema:
    # The first member that accepts the value wins; if none does, one error at the field's own
    # path (a plain union would report each member's failure under its name). pydantic-core
    # unwraps a union of one, custom error and all, so that one gets its own wrapper.
    if len(members) == 1:
        return cs.custom_error_schema(
            members[0], custom_error_type=name, custom_error_message=message
        )
    return cs.union_schema(
        list(members), mode="left_to_right", custom_error_type=name, custom_error_message=message
    )


def _check(
    name: str, message: str, text: list[CoreSchema], objects: list[CoreSchema]
) -> CoreSchema:
    """`text` members read JSON and Python input; `objects` (already-typed Python values) only
    Python input: in JSON mode pydantic's strict types would still take a JSON float for a
    Decimal (through a float) or a number for a date-time."""
    return cs.json_or_python_schema(
        json_schema=_one_error(name, message, *text),
        python_schema=_one_error(name, message, *text, *objects),
    )


def _text(pattern: str, then: CoreSchema) -> CoreSchema:
    # Only a string of the documented shape reaches pydantic's lax parser: it would also read
    # `"1500000000"` (or a JSON number) as Unix seconds, silently a 2017 date.
    return cs.chain_schema([cs.str_schema(strict=True, pattern=pattern), then])


_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATE_TIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


MAX_INTEGER_DIGITS = 32
"""Digits an exact amount may have before its point: `|amount| < 10**32`. `1e999999` is one
digit of text but a million-digit number: turned into an `int` or printed with `f"{x:f}"` it
costs megabytes and seconds, so it is refused, not carried. A tiny exponent (`1e-999999`) is a
number close to zero, carried as written: nothing in caudal expands it."""

_TOP = Decimal(10) ** MAX_INTEGER_DIGITS


def _exact(name: str, message: str, ge: int | None = None, *, whole: bool = False) -> NativeCheck:
    # Bounds are native comparisons (about 0.1 µs a value); a digit count (`max_digits`) would
    # make pydantic-core call `normalize()` and `as_tuple()` per value (40 % more mapping
    # time). Exclusive at the top: `_TOP - 1` rounds to `_TOP` in the default 28-digit context.
    low = Decimal(ge) if ge is not None else None
    above = None if ge is not None else -_TOP
    # `decimal_places=0` counts digits, but only for a Decimal or a string: a whole amount
    # arrives as a JSON integer (Khipu's pesos all do), which takes the `int` member.
    places = 0 if whole else None

    def decimal(strict: bool = False) -> CoreSchema:
        return cs.decimal_schema(
            strict=strict, allow_inf_nan=False, decimal_places=places, lt=_TOP, ge=low, gt=above
        )

    integer = cs.int_schema(
        strict=True,
        lt=10**MAX_INTEGER_DIGITS,
        ge=ge,
        gt=None if ge is not None else -(10**MAX_INTEGER_DIGITS),
    )
    # Integers first: JSON integers arrive as `int` (whole-peso CLP amounts are all integers),
    # and a failed first member costs about 0.1 µs.
    return NativeCheck(
        name,
        _check(
            name,
            message,
            [
                cs.chain_schema([integer, cs.decimal_schema()]),
                cs.chain_schema([cs.str_schema(strict=True), decimal()]),
            ],
            [decimal(strict=True)],
        ),
        cs.decimal_schema(ge=low),
        ge,
    )


_NEVER_FLOAT = (
    "a Decimal, an int or a numeric string, never a float (a float has lost digits), "
    f"NaN or infinity, less than 10**{MAX_INTEGER_DIGITS} in size"
)
_EXACT = _exact("exact_decimal", f"expected an exact amount: {_NEVER_FLOAT}")
_UNSIGNED = _exact("exact_unsigned", f"expected an exact amount of zero or more: {_NEVER_FLOAT}", 0)
_WHOLE = _exact(
    "exact_whole",
    f"expected a whole amount (no fraction: the currency has no minor unit): {_NEVER_FLOAT}",
    whole=True,
)

_ISO_DATE = NativeCheck(
    "iso_date",
    _check(
        "iso_date",
        "expected a date written YYYY-MM-DD",
        [_text(_DATE, cs.date_schema())],
        [cs.date_schema(strict=True)],
    ),
    cs.date_schema(),
)

_OFFSET_DATE_TIME = NativeCheck(
    "offset_date_time",
    _check(
        "offset_date_time",
        "expected an ISO 8601 date-time with its UTC offset (2024-05-21T08:32:00-04:00)",
        [_text(_DATE_TIME, cs.datetime_schema(tz_constraint="aware"))],
        [cs.datetime_schema(strict=True, tz_constraint="aware")],
    ),
    cs.datetime_schema(),
)

_DATE_OR_OFFSET_DATE_TIME = NativeCheck(
    "date_or_offset_date_time",
    _check(
        "date_or_offset_date_time",
        "expected a date YYYY-MM-DD or an ISO 8601 date-time with its UTC offset",
        [
            _text(_DATE_TIME, cs.datetime_schema(tz_constraint="aware")),
            _text(_DATE, cs.date_schema()),
        ],
        [cs.datetime_schema(strict=True, tz_constraint="aware"), cs.date_schema(strict=True)],
    ),
    cs.union_schema([cs.datetime_schema(), cs.date_schema()]),
)

ExactDecimal = Annotated[Decimal, _EXACT]
"""A finite Decimal that never came through a float."""

UnsignedDecimal = Annotated[Decimal, _UNSIGNED]
"""An `ExactDecimal` of zero or more: an amount whose sign is carried elsewhere."""

WholeDecimal = Annotated[Decimal, _WHOLE]
"""An `ExactDecimal` without a fractional part (`100.0` is whole, `100.5` is not): an amount
a provider documents as an integer of a currency with no minor unit (CLP)."""

IsoDate = Annotated[date, _ISO_DATE]
"""A calendar date written exactly `YYYY-MM-DD` (never a number, never a date-time)."""

OffsetDateTime = Annotated[datetime, _OFFSET_DATE_TIME]
"""An ISO 8601 date-time carrying its UTC offset, which is kept (`-0400` reads as `-04:00`)."""

DateOrOffsetDateTime = Annotated[datetime | date, _DATE_OR_OFFSET_DATE_TIME]
"""A bare date (`YYYY-MM-DD`), or a date-time with its UTC offset kept."""
