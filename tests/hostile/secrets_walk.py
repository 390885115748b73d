"""Walk everything an exception object reaches and find secret strings or bytes in it.

What is walked: the exception's args, attributes (`__dict__`, slots), `__cause__`,
`__context__`, and everything those reach (containers, models, SecretStr, closures), cycles
guarded and bounded. What is NOT walked, on purpose: `__traceback__` and the frames it holds
(their local variables hold whatever the code held: the request, the settings, the password;
a traceback is for the developer's eyes and is documented as such), and modules and classes
(global state, not the error's).
"""

from __future__ import annotations

import gc
import types
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

LIMIT = 200_000
"""Objects walked at most (a bound: an error should reach far fewer)."""

_SKIPPED = (types.TracebackType, types.FrameType, types.ModuleType, type)


def _children(obj: Any) -> Iterable[Any]:
    if isinstance(obj, types.FunctionType):  # not its globals: the module's, not the error's
        return [obj.__closure__, obj.__defaults__, obj.__kwdefaults__]
    if isinstance(obj, types.GeneratorType | types.CoroutineType | types.AsyncGeneratorType):
        return []  # a suspended frame: like a traceback's
    if isinstance(obj, BaseException):
        # __traceback__ excluded; its referents otherwise include it
        inner = [obj.args, obj.__cause__, obj.__context__, getattr(obj, "__dict__", None)]
        if isinstance(obj, ValidationError):  # its errors live in Rust, out of gc's sight
            inner.append(obj.errors(include_url=False))
        if isinstance(obj, BaseExceptionGroup):
            inner.append(obj.exceptions)
        return inner
    return gc.get_referents(obj)


def reachable(root: Any, secrets: Iterable[str]) -> list[str]:
    """Descriptions of every place a secret is found from `root` (empty: none)."""
    texts = list(secrets)
    raw = [t.encode() for t in texts]
    found: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, type(root).__name__)]
    walked = 0
    while stack:
        obj, path = stack.pop()
        if obj is None or id(obj) in seen or isinstance(obj, _SKIPPED):
            continue
        seen.add(id(obj))
        walked += 1
        assert walked <= LIMIT, f"walked more than {LIMIT} objects from {root!r}"
        if isinstance(obj, str):
            found += [f"{path}: {obj[:80]!r}" for t in texts if t in obj]
            continue
        if isinstance(obj, bytes | bytearray | memoryview):
            data = bytes(obj)
            found += [f"{path}: {data[:80]!r}" for b in raw if b in data]
            continue
        for child in _children(obj):
            stack.append((child, f"{path} > {type(child).__name__}"))
    return found
