"""The typed capability methods of `Connector`, generated from the `Capability` descriptors.

`caudal._methods.CapabilityMethods` holds, for each of caudal's own capabilities, the sync and
async methods with their overloads (a `Result[Record]` without `callback_url`, a `Pending`
with it) and, for a paged capability, `iter_NAME` / `aiter_NAME`. They are real methods in a
real module, so editors complete them and mypy checks calls to them; `make docs-sync` writes the
module and a test fails while it is stale. (A capability defined at run time, outside caudal,
gets the same methods from `Connector.__getattr__`, untyped.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["METHODS_FILE", "methods_source", "write"]

METHODS_FILE = Path(__file__).resolve().parents[2] / "core" / "src" / "caudal" / "_methods.py"

_HEAD = '''"""Typed capability methods of `Connector`, generated from `caudal.capabilities`.

Do not edit: regenerate with `make docs-sync` (a test fails while this file is stale). Each
method calls `Connector.call` / `acall` (or `records` / `arecords` for the page-by-page
iterators), so the behaviour lives in one place and only the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast, overload

from .model import {records}

if TYPE_CHECKING:
    from .model import Pending, Result

__all__ = ["CapabilityMethods"]


class CapabilityMethods:
    """The named capability methods; `Connector` inherits them."""

    if TYPE_CHECKING:

        def call(
            self,
            capability: str,
            params: dict[str, Any],
            *,
            callback_url: str | None = None,
            keep_raw: bool = False,
        ) -> Result[Any] | Pending: ...

        async def acall(
            self,
            capability: str,
            params: dict[str, Any],
            *,
            callback_url: str | None = None,
            keep_raw: bool = False,
        ) -> Result[Any] | Pending: ...

        def records(self, capability: str, params: dict[str, Any]) -> Iterator[Any]: ...

        def arecords(self, capability: str, params: dict[str, Any]) -> AsyncIterator[Any]: ...
'''

_METHODS = '''
    @overload
    def {name}(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[{record}]: ...
    @overload
    def {name}(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def {name}(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[{record}] | Pending:
        """{doc}

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("{name}", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[{record}] | Pending", outcome)

    @overload
    async def a{name}(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[{record}]: ...
    @overload
    async def a{name}(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def a{name}(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[{record}] | Pending:
        """Async twin of `{name}`."""
        outcome = await self.acall("{name}", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[{record}] | Pending", outcome)
'''

_PAGED = '''
    def iter_{name}(self, **params: Any) -> Iterator[{record}]:
        """`{name}` record by record, fetched page by page (memory: one page at a time)."""
        return self.records("{name}", params)

    def aiter_{name}(self, **params: Any) -> AsyncIterator[{record}]:
        """Async twin of `iter_{name}`: `async for record in conn.aiter_{name}(...)`."""
        return self.arecords("{name}", params)
'''


def methods_source() -> str:
    """The text of `caudal/_methods.py` for caudal's own capabilities, as ruff formats it."""
    from caudal.capabilities import BUILTIN, DESCRIPTORS

    chosen: list[Any] = [d for name, d in DESCRIPTORS.items() if name in BUILTIN]
    records = ", ".join(sorted({d.record.__name__ for d in chosen}))
    parts = [_HEAD.format(records=records)]
    for descriptor in chosen:
        values = {
            "name": descriptor.name,
            "record": descriptor.record.__name__,
            "doc": descriptor.doc.strip(),
        }
        parts.append(_METHODS.format(**values))
        if descriptor.paged:
            parts.append(_PAGED.format(**values))
    return _formatted("".join(parts))


def _formatted(source: str) -> str:
    """`source` as `ruff format` writes it (the file is checked by `ruff format --check`)."""
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(  # noqa: S603 - the workspace's own ruff, on generated text
        [str(ruff), "format", "--stdin-filename", str(METHODS_FILE), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        cwd=METHODS_FILE.parents[3],
    )
    return done.stdout


def write() -> bool:
    """Write the module if it is stale; whether it was."""
    fresh = methods_source()
    if METHODS_FILE.exists() and METHODS_FILE.read_text(encoding="utf-8") == fresh:
        return False
    METHODS_FILE.write_text(fresh, encoding="utf-8")
    return True
