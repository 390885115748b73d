"""One input's outcome: the line a sink stores, `{"id", "status", "records", "error", ...}`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import CaudalError, ChallengeRequired
from ..model import Pending, Result

__all__ = ["Outcome", "Status"]

Status = Literal["ok", "error", "challenge"]


@dataclass(frozen=True)
class Outcome:
    """What became of one input, final for this run.

    `records` are the canonical records as JSON (exact decimals as strings, timestamps with
    their offsets); `error` is `{"type", "message", "retry"}` (the message names fields, never
    values); `challenge` is the serialised `Challenge` the host app answers with `conn.resume`.
    `line` is the whole outcome as one line of JSON: what every sink stores, byte for byte.
    """

    id: str
    status: Status
    line: str
    attempts: int = 1

    @property
    def error_type(self) -> str | None:
        """The error's type name (for the summary), None unless the status is `error`."""
        if self.status != "error":
            return None
        error: dict[str, Any] = json.loads(self.line)["error"]
        return str(error["type"])

    @classmethod
    def ok(cls, ident: str, result: Result[Any] | Pending, attempts: int = 1) -> Outcome:
        records = (
            [item.model_dump(mode="json") for item in result] if isinstance(result, Result) else []
        )
        return cls(ident, "ok", _line(ident, "ok", records=records), attempts)

    @classmethod
    def failed(cls, ident: str, error: CaudalError, attempts: int = 1) -> Outcome:
        if isinstance(error, ChallengeRequired):
            challenge = error.challenge.model_dump(mode="json")
            return cls(ident, "challenge", _line(ident, "challenge", challenge=challenge), attempts)
        retry = getattr(error, "retry", None)
        described = {
            "type": type(error).__name__,
            "message": str(error),
            "retry": retry.value if retry is not None else None,
        }
        return cls(ident, "error", _line(ident, "error", error=described), attempts)

    @classmethod
    def crashed(cls, ident: str, error: BaseException, attempts: int = 1) -> Outcome:
        """A bug (not a `CaudalError`) met where the run cannot stop for it (a Celery task):
        the type only, as the message of an unexpected exception may hold anything."""
        described = {
            "type": type(error).__name__,
            "message": "unexpected error (a bug in the connector or caudal): see the worker's log",
            "retry": None,
        }
        return cls(ident, "error", _line(ident, "error", error=described), attempts)

    @classmethod
    def from_line(cls, line: str) -> Outcome:
        """The outcome a sink stored (a resumed JSONL file's tail is adopted through this)."""
        value = json.loads(line)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise ValueError("not an outcome line")
        status = value.get("status")
        if status not in ("ok", "error", "challenge"):
            raise ValueError("not an outcome line")
        return cls(value["id"], status, line.rstrip("\n"))


def _line(
    ident: str,
    status: Status,
    *,
    records: list[Any] | None = None,
    error: dict[str, Any] | None = None,
    challenge: dict[str, Any] | None = None,
) -> str:
    outcome = {
        "id": ident,
        "status": status,
        "records": records,
        "error": error,
        "challenge": challenge,
    }
    return json.dumps(outcome, ensure_ascii=False, separators=(",", ":"))
