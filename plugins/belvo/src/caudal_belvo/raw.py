"""Belvo's own JSON for `POST /api/br/balances/`, as pydantic models whose names are its keys.

These models are the single description of what Belvo sends and accepts: the mapping reads
replies through them, the emulator builds its answers from them, and the property tests derive
their bodies from them. Unknown keys are ignored (Belvo adds fields without notice); a missing
documented key, a wrong type, a currency outside ISO 4217 or a date-time without an offset is a
`MappingError` naming the JSON path.

Amounts are `Decimal` and must reach these models as `Decimal` (read bodies with
`caudal.mapping.validate`, never `validate_json`, which goes through a float).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from caudal.model import CurrencyCode, ExactDecimal, OffsetDateTime

__all__ = [
    "BalancesQuery",
    "BalancesRequest",
    "RawBalance",
    "RawError",
    "RawResumeRequest",
    "RawTokenGenerationData",
    "RawTokenRequired",
    "Timestamp",
]


Timestamp = OffsetDateTime
"""An ISO 8601 date-time with its offset (`2024-05-21T08:32:00Z`); the offset is kept. Never a
number: pydantic would read `2024` as Unix seconds, silently a 1970 date."""


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# -- request -------------------------------------------------------------------------------------


class BalancesRequest(_Raw):
    """Body of `POST /api/br/balances/`. `save_data` absent means Belvo's default, true (201)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    account_id: str | None = None
    save_data: bool | None = None


class BalancesQuery(_Raw):
    """Query of `POST /api/br/balances/`: response filters.

    The connector never sends them: dropping documented fields from the answer would make
    every record unmappable. Modelled so the emulator and the docs describe the whole endpoint.
    """

    omit: str | None = None
    fields: str | None = None


class RawResumeRequest(_Raw):
    """Body of `PATCH /api/br/balances/` that answers a `token_required` challenge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session: str = Field(min_length=1)
    token: str
    link: str = Field(min_length=1)


# -- success: 200 (not persisted) and 201 (persisted), both a JSON array of these ------------------


class RawBalance(_Raw):
    """One account's current balances.

    `automatically_invested` may already include `available` (Open Finance Brasil): the three
    are separate figures of the same account, never parts to be summed.
    """

    id: str
    link: str
    account_id: str
    account_internal_identification: str
    collected_at: Timestamp
    created_at: Timestamp
    last_updated_at: Timestamp
    currency: CurrencyCode
    available: ExactDecimal
    blocked: ExactDecimal
    automatically_invested: ExactDecimal


# -- errors: a JSON array of these ---------------------------------------------------------------


class RawError(_Raw):
    """One error of an error body. Belvo marks none of the keys required, so none is."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None


class RawTokenGenerationData(_Raw):
    """How the end user produces the token (a numeric challenge, a QR code, ...)."""

    instructions: str | None = None
    type: str | None = None
    value: str | None = None
    expects_user_input: bool | None = None


class RawTokenRequired(RawError):
    """The 428 `token_required` error: the institution asks for a second factor.

    `session` and `expiry` are required here although Belvo's page marks nothing required:
    without them there is nothing to resume and no deadline to keep, so the body is unusable.
    """

    session: str = Field(min_length=1)
    expiry: int = Field(ge=0)
    link: str | None = None
    token_generation_data: RawTokenGenerationData | None = None
