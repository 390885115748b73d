"""Hypothesis strategies for provider bodies and canonical values.

Bodies are generated as JSON-ready Python values in which every number is an `int` or a
`Decimal`; `json_text` writes them with each Decimal's digits exactly as they are (trailing
zeros, 25-digit amounts), which is what a provider sends and what the mapping must keep.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from hypothesis import strategies as st
from pydantic import AfterValidator, AwareDatetime, BaseModel, NaiveDatetime, SecretStr
from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf
from stdnum.cl import rut as _rut

from ..model import currency_codes, minor_units
from ..model._money import _check_currency

__all__ = [
    "amounts",
    "cnpjs",
    "cpfs",
    "currencies",
    "datetimes",
    "from_model",
    "json_text",
    "money",
    "offsets",
    "ruts",
]

Overrides = Mapping[str, st.SearchStrategy[Any]]
TEXT = st.characters(codec="utf-8", exclude_categories=["Cs"])


# -- JSON text ------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """JSON text of `value`, every `Decimal` written as a JSON number digit for digit."""
    import json

    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON has no NaN or Infinity")
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{json_text(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return json.dumps(value)


# -- canonical building blocks -----------------------------------------------------------------


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes, the region's common ones most often."""
    common = st.sampled_from(["CLP", "CLF", "BRL", "USD", "MXN", "COP", "PEN", "EUR"])
    return st.one_of(common, st.sampled_from(sorted(currency_codes())))


def amounts(
    currency: str | None = None, *, max_digits: int = 20, extra_places: int = 2, signed: bool = True
) -> st.SearchStrategy[Decimal]:
    """Exact amounts at the currency's minor units (or up to `extra_places` more).

    Providers send more decimals than a currency has (Open Finance Brasil: up to 4 for BRL);
    the model keeps them, so the strategies produce them too.
    """
    base = 2 if currency is None else (minor_units(currency) or 0)
    return st.integers(base, base + extra_places).flatmap(
        lambda places: st.decimals(
            # bounded on both sides: `max_digits` holds for negative amounts too (caudal refuses
            # more than 32 digits before the point)
            min_value=-(Decimal(10) ** (max_digits - places) - 1) if signed else 0,
            allow_nan=False,
            allow_infinity=False,
            places=places,
            max_value=Decimal(10) ** (max_digits - places) - 1,
        ).filter(lambda d: signed or d >= 0)
    )


def money(currency: str | None = None) -> st.SearchStrategy[tuple[Decimal, str]]:
    """(amount, currency) pairs with the amount at that currency's precision."""
    codes = st.just(currency) if currency else currencies()
    return codes.flatmap(lambda c: st.tuples(amounts(c), st.just(c)))


def _rut_text(body: int, valid: bool, dots: bool, lower: bool) -> str:
    digits = str(body)
    check = _rut.calc_check_digit(digits)
    if not valid:
        check = "0" if check != "0" else "1"
    if lower:
        check = check.lower()
    if dots:
        digits = f"{body:,}".replace(",", ".")
    return f"{digits}-{check}"


def ruts(valid: bool | None = None) -> st.SearchStrategy[str]:
    """Chilean RUTs as people write them (with or without dots, `k` or `K`)."""
    validity = st.booleans() if valid is None else st.just(valid)
    return st.builds(
        _rut_text, st.integers(1_000_000, 99_999_999), validity, st.booleans(), st.booleans()
    )


def _with_check_digits(module: Any, body: str, valid: bool) -> str:
    # python-stdnum is the judge of validity: the right pair is the one it accepts.
    pairs = [f"{n:02d}" for n in range(100)]
    good = next(p for p in pairs if module.is_valid(body + p))
    return body + (good if valid else next(p for p in pairs if p != good))


def cpfs(valid: bool | None = None, formatted: bool | None = None) -> st.SearchStrategy[str]:
    """Brazilian CPFs, formatted (`390.533.447-05`) or bare."""
    return _national(_cpf, 9, valid, formatted)


def cnpjs(valid: bool | None = None, formatted: bool | None = None) -> st.SearchStrategy[str]:
    """Brazilian CNPJs, formatted (`11.222.333/0001-81`) or bare."""
    return _national(_cnpj, 12, valid, formatted)


def _national(
    module: Any, width: int, valid: bool | None, formatted: bool | None
) -> st.SearchStrategy[str]:
    def make(body: str, ok: bool, fmt: bool) -> str:
        number = _with_check_digits(module, body, ok)
        return str(module.format(number)) if fmt else number

    return st.builds(
        make,
        st.text("0123456789", min_size=width, max_size=width).filter(lambda s: len(set(s)) > 1),
        st.booleans() if valid is None else st.just(valid),
        st.booleans() if formatted is None else st.just(formatted),
    )


def offsets() -> st.SearchStrategy[timezone]:
    """UTC offsets from -12:00 to +14:00 in quarter hours (Chile -03/-04, Brazil -02..-05)."""
    return st.integers(-48, 56).map(lambda q: timezone(timedelta(minutes=15 * q)))


def datetimes(*, colon: bool = True) -> st.SearchStrategy[str]:
    """ISO 8601 date-times with an offset; `colon=False` writes `-0400` as Khipu does."""

    def text(moment: datetime) -> str:
        out = moment.isoformat(timespec="seconds")
        return out if colon else out[:-3] + out[-2:]

    return st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=offsets()
    ).map(text)


# -- raw models --------------------------------------------------------------------------------


def from_model(
    model: type[BaseModel], overrides: Overrides | None = None
) -> st.SearchStrategy[Any]:
    """JSON-ready bodies that validate against the raw pydantic `model`.

    `overrides` maps dotted field paths (JSON keys, list levels skipped, as provider docs write
    them: `"Data.Balance.DateTime"`) to strategies, for formats a type cannot say (a RUT, an
    offset without colon, a currency). Optional fields are sometimes absent, sometimes null.
    """
    return _model(model, "", overrides or {})


def _model(model: type[BaseModel], path: str, overrides: Overrides) -> st.SearchStrategy[Any]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        key = (
            info.validation_alias
            if isinstance(info.validation_alias, str)
            else (info.alias or name)
        )
        sub = f"{path}.{key}" if path else key
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        strategy = _of(annotation, sub, overrides)
        (required if info.is_required() else optional)[key] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def _constrained(
    base: Any, meta: list[Any], path: str, overrides: Overrides
) -> st.SearchStrategy[Any]:
    """Honour `Field(ge=, gt=, le=, lt=, min_length=, max_length=)` on numbers and strings."""
    low, high = _bounds(meta)
    if base is int and (low is not None or high is not None):
        return st.integers(None if low is None else int(low), None if high is None else int(high))
    if base is Decimal and (low is not None or high is not None):
        return amounts(extra_places=4).filter(
            lambda d: (low is None or d >= low) and (high is None or d <= high)
        )
    min_len = next((m.min_length for m in meta if getattr(m, "min_length", None)), None)
    max_len = next((m.max_length for m in meta if getattr(m, "max_length", None)), None)
    if base is str and (min_len or max_len):
        return st.text(TEXT, min_size=min_len or 0, max_size=max_len or max(24, min_len or 0))
    return _of(base, path, overrides)


def _bounds(meta: list[Any]) -> tuple[Decimal | None, Decimal | None]:
    """Inclusive lower and upper bounds from annotated-types metadata."""
    low = high = None
    for m in meta:
        if getattr(m, "ge", None) is not None:
            low = Decimal(str(m.ge))
        if getattr(m, "gt", None) is not None:
            # Decimal(int) is exact; Decimal arithmetic rounds to 28 digits (10**32 - 1 would
            # come back as 10**32).
            low = Decimal(m.gt + 1) if isinstance(m.gt, int) else Decimal(str(m.gt)).next_plus()
        if getattr(m, "le", None) is not None:
            high = Decimal(str(m.le))
        if getattr(m, "lt", None) is not None:
            high = Decimal(m.lt - 1) if isinstance(m.lt, int) else Decimal(str(m.lt)).next_minus()
    return low, high


def _of(tp: Any, path: str, overrides: Overrides) -> st.SearchStrategy[Any]:
    if path in overrides:
        return overrides[path]
    origin = get_origin(tp)
    if origin is Annotated:
        base, *meta = get_args(tp)
        if any(isinstance(m, AfterValidator) and m.func is _check_currency for m in meta):
            return currencies()
        pattern = next(
            (getattr(m, "pattern", None) for m in meta if getattr(m, "pattern", None)), None
        )
        if pattern:
            return st.from_regex(pattern, fullmatch=True)
        return _constrained(base, meta, path, overrides)
    if origin in (Union, types.UnionType):
        return st.one_of(*(_of(arg, path, overrides) for arg in get_args(tp)))
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin in (list, tuple, typing.Sequence):
        return st.lists(_of(get_args(tp)[0], path, overrides), max_size=5)
    if origin is dict:
        return st.dictionaries(
            st.text(max_size=8), _of(get_args(tp)[1], path, overrides), max_size=3
        )
    if tp is type(None):
        return st.none()
    if tp is AwareDatetime:
        return datetimes()
    if tp is NaiveDatetime:
        return st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(datetime.isoformat)
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            return _model(tp, path, overrides)
        if issubclass(tp, Enum):
            return st.sampled_from([m.value for m in tp])
        if issubclass(tp, bool):
            return st.booleans()
        if issubclass(tp, int):
            return st.integers(-(10**15), 10**15)
        if issubclass(tp, Decimal):
            return amounts(extra_places=4)
        if issubclass(tp, datetime):
            return datetimes()
        if issubclass(tp, date):
            return st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(date.isoformat)
        if issubclass(tp, str | SecretStr):
            return st.text(TEXT, max_size=24)
    if tp is Any:
        return st.one_of(st.none(), st.text(max_size=8), st.integers())
    raise TypeError(f"no strategy for {tp!r} at {path!r}; pass one in overrides={{{path!r}: ...}}")
