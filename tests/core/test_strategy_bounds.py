"""The raw-body strategies honour a model's bounds exactly, however many digits they have."""

from __future__ import annotations

from typing import Annotated

from hypothesis import given, settings
from pydantic import BaseModel, Field

from caudal.testing import strategies


class Wide(BaseModel):
    below: Annotated[int, Field(ge=0, lt=10**32)]
    above: Annotated[int, Field(gt=-(10**40), le=0)]


@settings(max_examples=300)
@given(strategies.from_model(Wide))
def test_integer_bounds_past_28_digits_are_kept(body: dict[str, int]) -> None:
    # Decimal arithmetic has 28 digits: 10**32 - 1 computed as a Decimal is 10**32.
    assert 0 <= body["below"] < 10**32
    assert -(10**40) < body["above"] <= 0
    Wide.model_validate(body)
