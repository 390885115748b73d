"""`trusted()`: the same record validated construction builds, without validating twice."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from caudal import Balance, BalanceKind, Money
from caudal.model import builder, trusted
from caudal.model._build import verify_trusted

AS_OF = datetime(2024, 5, 21, 8, 30, tzinfo=UTC)


def _fields() -> dict[str, object]:
    return {
        "account_id": "0042",
        "kind": BalanceKind.AVAILABLE,
        "provider_kind": "available",
        "amount": Money(amount=Decimal("1.10"), currency="BRL"),
        "as_of": AS_OF,
    }


def test_trusted_equals_validated_construction() -> None:
    built = trusted(Balance, **_fields())
    assert built == Balance(**_fields())  # type: ignore[arg-type]
    assert built.model_fields_set == Balance(**_fields()).model_fields_set  # type: ignore[arg-type]
    assert built.model_dump_json() == Balance(**_fields()).model_dump_json()  # type: ignore[arg-type]


def test_unknown_or_missing_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown fields"):
        trusted(Money, amount=Decimal(1), currency="CLP", cents=3)
    with pytest.raises(TypeError, match="missing fields"):
        trusted(Money, amount=Decimal(1))


def test_shared_fields_set_survives_model_copy() -> None:
    first, second = trusted(Balance, **_fields()), trusted(Balance, **_fields())
    assert first.model_fields_set is second.model_fields_set  # shared: they are frozen
    copied = first.model_copy(update={"units": Decimal("2.5")})
    assert "units" in copied.model_fields_set
    assert "units" not in first.model_fields_set and "units" not in second.model_fields_set


def test_verification_catches_a_value_validation_would_change() -> None:
    verify_trusted(True)
    try:
        with pytest.raises(AssertionError, match="amount"):
            trusted(Money, amount="1.10", currency="BRL")
    finally:
        verify_trusted(True)  # the suite runs verified (tests/conftest.py)


def test_builder_equals_validated_construction_positionally_or_by_keyword() -> None:
    balance = builder(Balance, "account_id", "kind", "provider_kind", "amount", "as_of")
    fields = _fields()
    for built in (balance(*fields.values()), balance(**fields)):
        validated = Balance(**fields)  # type: ignore[arg-type]
        assert built == validated
        assert built.model_fields_set == validated.model_fields_set
        assert built.model_dump_json() == validated.model_dump_json()
        assert repr(built) == repr(validated)  # field order kept


def test_builder_gives_each_record_a_fresh_default_from_a_factory() -> None:
    balance = builder(Balance, "kind", "provider_kind", "amount", "as_of")
    fields = {k: v for k, v in _fields().items() if k != "account_id"}
    first, second = balance(**fields), balance(**fields)
    assert first.references == {} and first.references is not second.references
    assert first.account_id is None and first.breakdown == ()


def test_builder_is_made_once_per_class_and_field_combination() -> None:
    assert builder(Money, "amount", "currency") is builder(Money, "amount", "currency")
    assert builder(Money, "amount", "currency") is not builder(Money, "currency", "amount")


def test_builder_refuses_unknown_missing_or_repeated_fields_when_made() -> None:
    with pytest.raises(TypeError, match="unknown fields"):
        builder(Money, "amount", "currency", "cents")
    with pytest.raises(TypeError, match="missing fields"):
        builder(Money, "amount")
    with pytest.raises(TypeError):
        builder(Money, "amount", "amount", "currency")


def test_builder_records_are_verified_like_trusted_ones() -> None:
    money = builder(Money, "amount", "currency")
    with pytest.raises(AssertionError, match="amount"):
        money("1.10", "BRL")  # validation would have made it a Decimal
