"""What a capability call gives back: a Result, a Pending operation, or a Challenge to answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from ._records import Record

__all__ = ["Challenge", "Pending", "Result"]

RecordT = TypeVar("RecordT", bound=Record)
"""Any canonical record type: `Result[Balance]`, `Result[Transaction]`, a new capability's."""


def _now() -> datetime:
    return datetime.now(UTC)


class Result(BaseModel, Generic[RecordT]):
    """Canonical records from one provider answer. Iterating a Result yields its records.

    `raw` holds the provider's body only when the caller asked to keep it (audit trails).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    connector: str
    capability: str
    items: tuple[RecordT, ...] = ()
    operation_id: str | None = None
    fetched_at: AwareDatetime = Field(default_factory=_now)
    notes: tuple[str, ...] = ()
    references: dict[str, str] = Field(default_factory=dict)
    raw: str | None = None

    def __iter__(self) -> Iterator[RecordT]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Pending(BaseModel):
    """An asynchronous request the provider accepted; the result arrives at the callback URL."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    connector: str
    capability: str
    operation_id: str
    deadline: AwareDatetime | None = None
    requested_at: AwareDatetime = Field(default_factory=_now)
    notes: tuple[str, ...] = ()


class Challenge(BaseModel):
    """A multi-factor step the end user must answer before the provider gives data.

    Survives `model_dump_json()` / `model_validate_json()`, so a web app can keep it between the
    request that raised it and the one that carries the user's token.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    connector: str
    capability: str
    params: dict[str, JsonValue] = Field(default_factory=dict)
    session: str
    expires_at: AwareDatetime
    link: str | None = None
    method: str | None = None
    instructions: str | None = None
    value: str | None = None
    expects_user_input: bool = True
    request_id: str | None = None

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the provider's session has run out (a resume would be refused)."""
        return (now or _now()) >= self.expires_at
