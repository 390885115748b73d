"""`trusted()`: the same record validated construction builds, without validating twice."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from caudal import Balance, BalanceKind, Money
from caudal.model import trusted
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
