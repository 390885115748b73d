"""The native field checks: what each accepts, what it refuses, and how it reports a refusal."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from caudal import Money
from caudal.model import (
    MAX_INTEGER_DIGITS,
    DateOrOffsetDateTime,
    ExactDecimal,
    IsoDate,
    OffsetDateTime,
    UnsignedDecimal,
    WholeDecimal,
)
from caudal.testing import strategies as cst

MINUS_4 = timezone(timedelta(hours=-4))


def _refused(tp: Any, value: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(tp).validate_python(value)
    errors = caught.value.errors()
    assert len(errors) == 1, errors  # one error for the field, not one per union member
    return dict(errors[0])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("1.10"), Decimal("1.10")), (3, Decimal(3)), ("2.50", Decimal("2.50"))],
)
def test_exact_decimal_keeps_every_digit(value: Any, expected: Decimal) -> None:
    got = TypeAdapter(ExactDecimal).validate_python(value)
    assert type(got) is Decimal and got.as_tuple() == expected.as_tuple()


@pytest.mark.parametrize("value", [0.1, 1.0, True, "NaN", Decimal("Infinity"), None, "abc"])
def test_exact_decimal_refuses_floats_and_non_numbers(value: Any) -> None:
    error = _refused(ExactDecimal, value)
    assert error["type"] == "exact_decimal" and error["loc"] == ()
    assert "never a float" in error["msg"]


def test_unsigned_decimal_refuses_a_negative_amount_with_its_own_message() -> None:
    assert TypeAdapter(UnsignedDecimal).validate_python(Decimal("-0")).is_zero()
    error = _refused(UnsignedDecimal, Decimal("-0.01"))
    assert error["type"] == "exact_unsigned" and "zero or more" in error["msg"]
    assert _refused(UnsignedDecimal, 5.0)["type"] == "exact_unsigned"


@pytest.mark.parametrize("value", ["2024-05-02", date(2024, 5, 2)])
def test_iso_date(value: Any) -> None:
    assert TypeAdapter(IsoDate).validate_python(value) == date(2024, 5, 2)


@pytest.mark.parametrize(
    "value",
    ["2024-05-02T00:00:00", "20240502", "2024-5-2", "2024-13-01", 20240502, datetime(2024, 5, 2)],
)
def test_iso_date_refuses_anything_but_yyyy_mm_dd(value: Any) -> None:
    assert _refused(IsoDate, value)["type"] == "iso_date"


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2024-05-02T10:00:00-0400", timedelta(hours=-4)),  # Khipu's offset without a colon
        ("2024-05-02T10:00:00-04:00", timedelta(hours=-4)),
        ("2024-05-02T10:00:00Z", timedelta(0)),
        ("2024-05-02 10:00:00.123456+05:30", timedelta(hours=5, minutes=30)),
    ],
)
def test_offset_date_time_keeps_the_offset(text: str, offset: timedelta) -> None:
    got = TypeAdapter(OffsetDateTime).validate_python(text)
    assert got.utcoffset() == offset and got.replace(tzinfo=None).hour == 10


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-02T10:00:00",  # no offset: refusing to guess a time zone
        "2024-05-02",
        "1500000000",  # pydantic's lax datetime would read Unix seconds: silently 2017
        1500000000,
        datetime(2024, 5, 2, 10),
        "02/05/2024 10:00",
    ],
)
def test_offset_date_time_refuses_naive_times_and_numbers(value: Any) -> None:
    error = _refused(OffsetDateTime, value)
    assert error["type"] == "offset_date_time" and "UTC offset" in error["msg"]


def test_date_or_offset_date_time_keeps_which_one_was_sent() -> None:
    adapter = TypeAdapter(DateOrOffsetDateTime)
    assert type(adapter.validate_python("2024-05-02")) is date
    moment = adapter.validate_python("2024-05-02T10:00:00-0400")
    assert isinstance(moment, datetime) and moment == datetime(2024, 5, 2, 10, tzinfo=MINUS_4)
    assert adapter.validate_python(datetime(2024, 5, 2, tzinfo=UTC)).tzinfo is UTC
    for bad in ("2024-05-02T10:00:00", 17, "21/07/2017", datetime(2024, 5, 2)):
        assert _refused(DateOrOffsetDateTime, bad)["type"] == "date_or_offset_date_time"


@given(cst.datetimes(colon=False))
def test_every_khipu_style_time_reads_back_to_the_same_instant(text: str) -> None:
    moment = TypeAdapter(OffsetDateTime).validate_python(text)
    assert moment == datetime.fromisoformat(text)
    assert moment.utcoffset() == datetime.fromisoformat(text).utcoffset()


def _within_bounds(value: Decimal) -> bool:
    return abs(value) < Decimal(10) ** MAX_INTEGER_DIGITS


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_exact_decimal_accepts_every_finite_decimal_within_the_bound_unchanged(
    value: Decimal,
) -> None:
    adapter = TypeAdapter(ExactDecimal)
    if _within_bounds(value):
        assert adapter.validate_python(value).as_tuple() == value.as_tuple()
    else:
        with pytest.raises(ValidationError, match="less than 10\\*\\*32 in size"):
            adapter.validate_python(value)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1e999999"),
        Decimal("-1e999999"),
        Decimal(10) ** MAX_INTEGER_DIGITS,
        (Decimal(10) ** MAX_INTEGER_DIGITS).copy_negate(),
        10**MAX_INTEGER_DIGITS,
        -(10**MAX_INTEGER_DIGITS),
        10**4000,
        "1e999999",
        "1E+32",
    ],
)
def test_exact_decimal_refuses_unbounded_exponents(value: Any) -> None:
    # turned into an int or printed with `:f`, 1e999999 costs megabytes: refused, never carried
    with pytest.raises(ValidationError):
        TypeAdapter(ExactDecimal).validate_python(value)
    with pytest.raises(ValidationError):
        TypeAdapter(WholeDecimal).validate_python(value)


def test_the_largest_amounts_within_the_bound_are_kept_digit_for_digit() -> None:
    top = Decimal("9" * MAX_INTEGER_DIGITS + "." + "9" * 40)
    for value in (top, top.copy_negate(), 10**MAX_INTEGER_DIGITS - 1):
        kept = TypeAdapter(ExactDecimal).validate_python(value)
        assert kept == value and kept.as_tuple() == Decimal(value).as_tuple()


def test_a_tiny_exponent_is_carried_as_written() -> None:
    # a number near zero: nothing in caudal expands it, so it is the provider's figure, kept
    tiny = Decimal("1e-999999")
    assert TypeAdapter(ExactDecimal).validate_python(tiny).as_tuple() == tiny.as_tuple()


@pytest.mark.parametrize("value", [100, Decimal("100"), Decimal("100.00"), "1500", Decimal("-3")])
def test_whole_decimal_accepts_values_without_a_fraction_as_sent(value: Any) -> None:
    kept = TypeAdapter(WholeDecimal).validate_python(value)
    assert kept == Decimal(value)
    if isinstance(value, Decimal):
        assert kept.as_tuple() == value.as_tuple()


@pytest.mark.parametrize("value", [Decimal("100.5"), "0.01", Decimal("1e-5"), 1.0])
def test_whole_decimal_refuses_a_fraction(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(WholeDecimal).validate_python(value)


class _Shown(BaseModel):
    amount: ExactDecimal
    unsigned: UnsignedDecimal
    day: IsoDate
    moment: OffsetDateTime
    either: DateOrOffsetDateTime


class _Plain(BaseModel):
    amount: Decimal
    unsigned: Annotated[Decimal, Field(ge=0)]
    day: date
    moment: datetime
    either: datetime | date


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_json_schema_is_the_plain_types(mode: Any) -> None:
    shown = _Shown.model_json_schema(mode=mode)["properties"]
    plain = _Plain.model_json_schema(mode=mode)["properties"]
    for name in plain:
        assert {k: v for k, v in shown[name].items() if k != "title"} == {
            k: v for k, v in plain[name].items() if k != "title"
        }, name


def test_dumps_like_the_plain_types() -> None:
    shown = _Shown(
        amount=Decimal("1.10"),
        unsigned=Decimal("0.00"),
        day="2024-05-02",  # type: ignore[arg-type]
        moment="2024-05-02T10:00:00-0400",  # type: ignore[arg-type]
        either="2024-05-02",  # type: ignore[arg-type]
    )
    assert shown.model_dump(mode="json") == {
        "amount": "1.10",
        "unsigned": "0.00",
        "day": "2024-05-02",
        "moment": "2024-05-02T10:00:00-04:00",
        "either": "2024-05-02",
    }


@pytest.mark.parametrize("text", ["1.10", "0.1", "3.0", "1e5", "1000.1234567890123456789"])
def test_validate_json_refuses_a_json_number_with_a_fraction_instead_of_rounding_it(
    text: str,
) -> None:
    # pydantic's validate_json reads such a number through a float; refusing it is the only
    # exact answer (caudal.mapping.load_json reads it from its text).
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ExactDecimal).validate_json(text)
    assert caught.value.errors()[0]["type"] == "exact_decimal"
    with pytest.raises(ValidationError):
        Money.model_validate_json(f'{{"amount": {text}, "currency": "CLP"}}')


def test_validate_json_reads_integers_and_strings_exactly() -> None:
    adapter = TypeAdapter(ExactDecimal)
    assert adapter.validate_json("12345678901234567890123").as_tuple() == (
        Decimal("12345678901234567890123").as_tuple()
    )
    assert adapter.validate_json('"1.10"').as_tuple() == Decimal("1.10").as_tuple()
    money = Money(amount=Decimal("-0.00"), currency="BRL")
    again = Money.model_validate_json(money.model_dump_json())
    assert again.amount.as_tuple() == money.amount.as_tuple()


@pytest.mark.parametrize(
    ("tp", "text", "kind"),
    [
        (OffsetDateTime, "1500000000", "offset_date_time"),
        (OffsetDateTime, '"2024-05-02T10:00:00"', "offset_date_time"),
        (IsoDate, '"2024-05-02T00:00:00"', "iso_date"),
        (IsoDate, "20240502", "iso_date"),
        (DateOrOffsetDateTime, "1500000000", "date_or_offset_date_time"),
    ],
)
def test_validate_json_refuses_numbers_and_naive_times(tp: Any, text: str, kind: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(tp).validate_json(text)
    assert caught.value.errors()[0]["type"] == kind
