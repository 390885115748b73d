"""The inputs of a bulk run: `{"id": ..., "params": {...}}`, streamed, one at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..mapping import load_json

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_LINE_BYTES",
    "BulkInput",
    "count_inputs",
    "exact_json",
    "read_jsonl",
]

MAX_LINE_BYTES = 1024 * 1024
"""An input line is an id and a few parameters; a line far longer than that is not one."""
MAX_ID_LENGTH = 256
"""Ids are keys of the checkpoint and the sink; a longer one is a mistake, not an id."""


@dataclass(frozen=True)
class BulkInput:
    """One unit of work: an id the host app chose (a string, kept as given) and the
    capability's parameters for it. `params` may hold an end user's credential: it is never
    written to a sink, a checkpoint or a log, and its repr hides it."""

    id: str
    params: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ConfigurationError("an input's id must be a non-empty string")
        if len(self.id) > MAX_ID_LENGTH:
            raise ConfigurationError(f"an input's id is longer than {MAX_ID_LENGTH} characters")
        if not isinstance(self.params, dict):
            raise ConfigurationError(f"input {self.id!r}: params must be a JSON object")

    @classmethod
    def from_json(cls, value: Any, where: str = "input") -> BulkInput:
        """An input from a decoded JSON object; a typed error naming `where` if it is not one.

        Ids must be JSON strings: `17` and `"017"` are different accounts, and a number would
        have to be rewritten to become a key.
        """
        if not isinstance(value, dict):
            raise ConfigurationError(f'{where}: not a JSON object {{"id": ..., "params": {{}}}}')
        unknown = sorted(set(value) - {"id", "params"})
        if unknown:
            raise ConfigurationError(f"{where}: unknown keys {unknown} (only id and params)")
        ident = value.get("id")
        if not isinstance(ident, str):
            raise ConfigurationError(f"{where}: id must be a JSON string")
        params = value.get("params", {})
        try:
            return cls(ident, params)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc.detail}") from None


def read_jsonl(path: str | Path) -> Iterator[BulkInput]:
    """Stream the inputs of a JSONL file, one line at a time (memory independent of its size).

    Blank lines are skipped; a line that is not an input raises a `ConfigurationError` naming
    its number (never its content: it may hold a credential). Numbers are read exactly.
    """
    try:
        file = Path(path).open("rb")  # noqa: SIM115 - closed by the generator's finally
    except OSError as exc:
        raise ConfigurationError(f"cannot read the input file {path}: {exc.strerror}") from None
    with file:
        for number, line in enumerate(iter(lambda: file.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(line) > MAX_LINE_BYTES:
                raise ConfigurationError(
                    f"{path} line {number}: longer than {MAX_LINE_BYTES} bytes"
                )
            if not line.strip():
                continue
            try:
                value = load_json(line)
            except ValueError:
                raise ConfigurationError(f"{path} line {number}: not valid JSON") from None
            yield BulkInput.from_json(value, f"{path} line {number}")


def count_inputs(path: str | Path) -> int:
    """How many inputs the file holds, every line checked (so a bad line 50,000 lines in is
    reported before the first call, not after 50,000 of them). Streams the file."""
    return sum(1 for _ in read_jsonl(path))


def exact_json(value: Any) -> str:
    """JSON text of decoded input (`load_json`'s output), a `Decimal` written as the number it
    was read from: parameters cross a queue with their digits intact (`json.dumps` refuses a
    Decimal, and a float or a string would change it)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{exact_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(exact_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
