"""Helpers every mapper uses to read provider JSON exactly and fail with a JSON path.

JSON numbers are parsed from their text: a number with a fraction or an exponent becomes the
`Decimal` of its text (`1.10` stays `1.10`, 25 digits stay 25 digits), an integer an `int`.
pydantic's own `validate_json` goes through a float for `Decimal` fields (measured: `1.10` ->
`Decimal('1.1')`, `1000.1234567890123456789` -> `Decimal('1000.1234567890124')`), so raw bodies
are decoded here and validated in Python mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

import jiter
from pydantic import TypeAdapter, ValidationError

from .errors import CaudalError, MappingError
from .exchange import Call

__all__ = ["json_path", "load_json", "map_items", "mapping_errors", "validate"]

T = TypeVar("T")
R = TypeVar("R")

_MINUS_ZERO = re.compile(rb"-0(?![0-9.eE])")
_JSON_SPACE = b" \t\n\r"


def _negative_zero_int(data: bytes) -> bool:
    """Whether `data` may hold an integer `-0`, the one JSON number an `int` cannot hold.

    A number follows the start of the text, `[`, `:` or `,` (and whitespace). `-0` inside a
    string (a RUT ending in 0) mostly fails that test; when it passes, only the slower exact
    decoder runs. A plain regex with that context would not start from a literal and costs
    ten times as much (about 1 µs per record).
    """
    for match in _MINUS_ZERO.finditer(data):
        i = match.start() - 1
        while i >= 0 and data[i] in _JSON_SPACE:
            i -= 1
        if i < 0 or data[i] in b"[:,":
            return True
    return False


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _int(text: str) -> int | Decimal:
    return Decimal(text) if text == "-0" else int(text)


def load_json(body: bytes | str) -> Any:
    """Decode JSON exactly: a number with a fraction or exponent is the `Decimal` of its text,
    an integer is an `int` (an integer `-0` is `Decimal('-0')`, keeping its sign).

    jiter (pydantic's parser) reads the common case twice as fast as `json.loads`. A text it
    refuses (a UTF-16 body, nesting deeper than 200, or simply bad JSON) and a text with an
    integer `-0` are read again by `json.loads`, whose answer or error message then stands.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if not _negative_zero_int(data):
        with suppress(ValueError):  # the standard library gives the answer or the message
            return jiter.from_json(data, allow_inf_nan=False, float_mode="decimal")
    return json.loads(body, parse_float=Decimal, parse_int=_int, parse_constant=_refuse_constant)


def json_path(loc: Sequence[int | str]) -> str:
    """`("Data", "Balance", 2, "Amount")` -> `$.Data.Balance[2].Amount`."""
    parts = ["$"]
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isidentifier():
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "".join(parts)


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors(include_url=False, include_input=False)[0]
    # Union members and function validators add non-key entries (`function-after[...]`,
    # `list[...]`) to `loc`; a JSON path keeps only the keys and indexes.
    loc = [k for k in err["loc"] if isinstance(k, int) or "[" not in k]
    more = exc.error_count() - 1
    reason = err["msg"] + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")
    return json_path(loc), reason


def validate(adapter: TypeAdapter[T], body: bytes | str | Any, call: Call[Any]) -> T:
    """Decode `body` (bytes/str are JSON text) and validate it, or raise a `MappingError`."""
    try:
        data = load_json(body) if isinstance(body, bytes | str) else body
    except (ValueError, RecursionError) as exc:
        raise MappingError(
            f"body is not valid JSON: {exc}", connector=call.connector, capability=call.capability
        ) from None
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        path, reason = _first_error(exc)
        raise MappingError(
            reason, connector=call.connector, capability=call.capability, path=path
        ) from None


@contextmanager
def mapping_errors(call: Call[Any], path: str = "$") -> Iterator[None]:
    """Turn any unexpected exception inside a mapper into a `MappingError` at `path`.

    Typed caudal errors pass through; a bare KeyError/TypeError/ValidationError never escapes.
    """
    try:
        yield
    except CaudalError:
        raise
    except ValidationError as exc:
        sub, reason = _first_error(exc)
        raise MappingError(
            f"canonical record rejected the value: {reason} ({sub[1:] or 'record'})",
            connector=call.connector,
            capability=call.capability,
            path=path,
        ) from None
    except Exception as exc:
        raise MappingError(
            f"{type(exc).__name__}: {exc}",
            connector=call.connector,
            capability=call.capability,
            path=path,
        ) from None


def map_items(
    items: Iterable[T],
    build: Callable[[T], R],
    call: Call[Any],
    path: str,
    *,
    release: bool = False,
) -> list[R]:
    """`build(item)` for each item; a failure is a `MappingError` at `path[i]`, the item's index.

    One `try` around the whole loop rather than a context manager per item: at 100k records
    the per-item cost is what a mapper spends. With `release=True` (a list the caller owns and
    no longer needs) each raw item is dropped once its record is built, so a huge body never
    holds every raw model and every canonical record at the same time.
    """
    out: list[R] = []
    index = 0
    owned: list[Any] | None = items if release and isinstance(items, list) else None
    try:
        for index, item in enumerate(items):
            out.append(build(item))
            if owned is not None:
                owned[index] = None
    except Exception:
        with mapping_errors(call, f"{path}[{index}]"):
            raise
    return out
