"""Helpers every mapper uses to read provider JSON exactly and fail with a JSON path.

JSON numbers are parsed from their text (`load_json`, in `caudal._json`, which also bounds the
memory a body may decode to). pydantic's own `validate_json` goes through a float for
`Decimal` fields (measured: `1.10` -> `Decimal('1.1')`, `1000.1234567890123456789` ->
`Decimal('1000.1234567890124')`), so raw bodies are decoded here and validated in Python mode.

Validation is bounded by the body: pydantic collects every error of a list by default (a
0.5 MB body of `[0,0,…]` against a list of models cost 360 MB in error objects), so `validate`
runs each adapter with every list, tuple and set made fail-fast (it stops at a list's first bad
item) and a `MappingError` reports the first `MAX_PROBLEMS` problems and how many at least.
A bug in mapping code (an AttributeError after the body validated) is a `ConnectorBug`, never
a MappingError: the provider is not at fault.
"""

from __future__ import annotations

import json
import traceback
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from ._json import MAX_DECODED_RATIO, DenseJSON, load_json
from .errors import CaudalError, ConnectorBug, MappingError
from .exchange import Call

__all__ = [
    "MAX_DECODED_RATIO",
    "MAX_PROBLEMS",
    "DenseJSON",
    "connector_bug",
    "decode",
    "detach_list",
    "json_path",
    "load_json",
    "map_items",
    "mapping_errors",
    "stream_items",
    "stream_list",
    "validate",
    "validate_data",
]

MAX_PROBLEMS = 5
"""Problems a MappingError lists (with their JSON paths); it counts the others."""

T = TypeVar("T")
R = TypeVar("R")


def json_path(loc: Sequence[int | str]) -> str:
    """`("Data", "Balance", 2, "Amount")` -> `$.Data.Balance[2].Amount`."""
    parts = ["$"]
    for key in loc:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif key.isidentifier():
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "".join(parts)


_LIST: TypeAdapter[list[Any]] = TypeAdapter(list[Any])

_ITERABLES = frozenset({"list", "tuple", "set", "frozenset"})


def _fail_fast_copy(node: Any) -> Any:
    """A copy of a core schema with `fail_fast` on every list, tuple and set schema.

    Only the dicts and lists of the schema's structure are copied; classes, functions and
    constants are shared (a deep copy would copy validators' closures).
    """
    if isinstance(node, dict):
        copied = {key: _fail_fast_copy(value) for key, value in node.items()}
        kind = copied.get("type")
        if isinstance(kind, str) and kind in _ITERABLES:  # a field may be named "type"
            copied["fail_fast"] = True
        return copied
    if isinstance(node, list):
        return [_fail_fast_copy(value) for value in node]
    return node


_FAIL_FAST: weakref.WeakKeyDictionary[TypeAdapter[Any], SchemaValidator] = (
    weakref.WeakKeyDictionary()
)


def _core_config(adapter: TypeAdapter[Any]) -> Any:
    # A TypeAdapter's own `config=` is not part of its core schema (models carry theirs
    # inside it); pydantic has no public accessor for it, hence its internal ConfigWrapper.
    config = getattr(adapter, "_config", None)
    if config is None:
        return None
    from pydantic._internal._config import ConfigWrapper

    return ConfigWrapper(config).core_config(None)


def _fail_fast(adapter: TypeAdapter[T]) -> SchemaValidator:
    """The adapter's validator with fail-fast iterables, built once per adapter.

    Fail-fast is applied here rather than left to each raw model's annotations, so no plugin
    can forget it. Held weakly: an adapter built per call is not kept alive by this cache.
    """
    validator = _FAIL_FAST.get(adapter)
    if validator is None:
        validator = SchemaValidator(_fail_fast_copy(adapter.core_schema), _core_config(adapter))
        _FAIL_FAST[adapter] = validator
    return validator


def _problems(
    exc: ValidationError, under: str = "$"
) -> tuple[tuple[tuple[str, str], ...], int, bool]:
    """The first `MAX_PROBLEMS` (path, reason) pairs, the count, and whether it is exact.

    Paths are below `under` (the JSON path of what was validated). A fail-fast list stops at
    its first bad item, so once an error sits inside a list item the count is only a lower
    bound.
    """
    found: list[tuple[str, str]] = []
    exact = True
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        # Union members and function validators add non-key entries (`function-after[...]`,
        # `list[...]`) to `loc`; a JSON path keeps only the keys and indexes.
        loc = [k for k in err["loc"] if isinstance(k, int) or "[" not in k]
        exact = exact and not any(isinstance(k, int) for k in loc)
        if len(found) < MAX_PROBLEMS:
            found.append((under + json_path(loc)[1:], err["msg"]))
    return tuple(found), exc.error_count(), exact


def _mapping_error(
    exc: ValidationError, call: Call[Any], under: str = "$", *, more: bool = False
) -> MappingError:
    """`more`: other parts of the body were not validated yet (the count is a lower bound)."""
    problems, count, exact = _problems(exc, under)
    path, reason = problems[0]
    return MappingError(
        reason,
        connector=call.connector,
        capability=call.capability,
        path=path,
        problems=problems,
        problem_count=count,
        problem_count_exact=exact and not more,
    )


def validate_data(
    adapter: TypeAdapter[T], data: Any, call: Call[Any], *, detached: Sequence[Any] = ()
) -> T:
    """Validate already-decoded JSON `data`, or raise a `MappingError` naming the paths.

    A `str` here is a JSON string value, never decoded again: a body that is a JSON string
    wrapping a JSON document is refused, not read twice. `detached`: a list taken out of
    `data` (`detach_list`) to be validated later; while it holds items, a problem count is
    only a lower bound.
    """
    try:
        return cast(T, _fail_fast(adapter).validate_python(data))
    except ValidationError as exc:
        error = _mapping_error(exc, call, more=bool(detached))
    raise error  # outside the except block: the error keeps no context (it holds the input)


def detach_list(tree: Any, keys: Sequence[str]) -> list[Any]:
    """Take the list at `tree[keys[0]][keys[1]]…` out of a decoded tree, leaving `[]` there.

    The list is then validated item by item (`stream_items`) while the rest of the tree is
    validated without it: a body's every raw model never exists at once. When the keys do not
    lead to a list, nothing is taken (an empty list is returned) and the tree's validation
    reports what is there instead.
    """
    parent = tree
    for key in keys[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(parent, dict) or not keys:
        return []
    found = parent.get(keys[-1])
    if not isinstance(found, list):
        return []
    parent[keys[-1]] = []
    return found


def stream_list(data: Any, adapter: TypeAdapter[T], call: Call[Any]) -> Iterator[T]:
    """`stream_items` for a decoded body that must be a bare JSON array.

    Anything else is a `MappingError` at once, naming what is there instead.
    """
    if not isinstance(data, list):
        validate_data(_LIST, data, call)
    return stream_items(data, adapter, call, "$")


def stream_items(
    items: list[Any], adapter: TypeAdapter[T], call: Call[Any], path: str
) -> Iterator[T]:
    """Validate a decoded JSON list one item at a time, as the caller iterates.

    The caller owns `items` (`detach_list`, or a body that is a bare list): each decoded item
    is dropped from it before its raw model is handed over, and the raw model is dropped by
    the caller once its record is built (`map_items`). So peak memory is the tree plus the
    records, not the tree, every raw model and the records (measured 14x a body of Khipu
    loans before, see tests/hostile/test_memory.py). Fail-fast like `validate`: the first bad
    item raises a `MappingError` at `path[i]`, its count a lower bound.
    """
    validator = _fail_fast(adapter)
    for index in range(len(items)):
        item, items[index] = items[index], None
        try:
            model = validator.validate_python(item)
        except ValidationError as exc:
            error = _mapping_error(exc, call, f"{path}[{index}]", more=True)
        else:
            del item
            yield cast(T, model)
            continue
        raise error  # outside the except block: the error keeps no context (it holds the input)


def validate(adapter: TypeAdapter[T], body: bytes | str | Any, call: Call[Any]) -> T:
    """Decode `body` (bytes/str are JSON text) and validate it, or raise a `MappingError`.

    Other values are taken as decoded JSON (`validate_data`, which mappers holding a decoded
    tree should call: a decoded JSON string must not be decoded again).
    """
    if not isinstance(body, bytes | str):
        return validate_data(adapter, body, call)
    return validate_data(adapter, decode(body, call), call)


def decode(body: bytes | str, call: Call[Any]) -> Any:
    """`load_json(body)`, or a `MappingError`: the body is not JSON, or it would decode to more
    than `MAX_DECODED_RATIO` times its size (`DenseJSON`)."""
    try:
        return load_json(body)
    except DenseJSON as exc:
        problem = str(exc)
    except (ValueError, RecursionError) as exc:
        problem = f"body is not valid JSON: {exc}"
    raise MappingError(problem, connector=call.connector, capability=call.capability)


def connector_bug(exc: BaseException, call: Call[Any], doing: str, *, show: bool) -> ConnectorBug:
    """The `ConnectorBug` for an exception in connector code, carrying its traceback.

    `show`: whether the original message may appear (a reply's mapping: it holds at most the
    provider's data); a request builder's message could quote the end user's credentials.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f"{PurePath(last.filename).name}:{last.lineno} in {last.name}" if last else "unknown"
    name = type(exc).__name__
    said = str(exc)[:200] if show else ""
    detail = f"{name}: {said}" if said else name
    bug = ConnectorBug(
        f"bug in connector code while {doing} ({detail}, at {where}): not the provider's "
        "fault; report it to the connector's authors",
        connector=call.connector,
        capability=call.capability,
        bug=name,
        where=where,
    )
    return bug.with_traceback(exc.__traceback__)


@contextmanager
def mapping_errors(call: Call[Any], path: str = "$") -> Iterator[None]:
    """Type any unexpected exception inside a mapper: a `ValidationError` (a canonical record
    refused a value of the body) is a `MappingError` at `path`, anything else a `ConnectorBug`.

    Typed caudal errors pass through; a bare KeyError/TypeError/ValidationError never escapes.
    A MemoryError is not a bug and passes through untouched.
    """
    try:
        yield
    except (CaudalError, MemoryError):
        raise
    except ValidationError as exc:
        sub, reason = _problems(exc)[0][0]
        failure: CaudalError = MappingError(
            f"canonical record rejected the value: {reason} ({sub[1:] or 'record'})",
            connector=call.connector,
            capability=call.capability,
            path=path,
        )
    except Exception as exc:
        failure = connector_bug(exc, call, "reading the reply", show=True)
    else:
        return
    # Raised after the except block; the caller's own handler may still set a context, which
    # the connector's public methods clear (see `caudal.errors.detached`).
    raise failure


def map_items(
    items: Iterable[T],
    build: Callable[[T], R],
    call: Call[Any],
    path: str,
    *,
    release: bool = False,
) -> list[R]:
    """`build(item)` for each item; a failure is a `MappingError` at `path[i]`, the item's index.

    One `try` around the whole loop rather than a context manager per item: at 100k records
    the per-item cost is what a mapper spends. With `release=True` (a list the caller owns and
    no longer needs) each raw item is dropped once its record is built, so a huge body never
    holds every raw model and every canonical record at the same time.
    """
    out: list[R] = []
    index = 0
    owned: list[Any] | None = items if release and isinstance(items, list) else None
    try:
        for index, item in enumerate(items):
            out.append(build(item))
            if owned is not None:
                owned[index] = None
    except Exception:
        with mapping_errors(call, f"{path}[{index}]"):
            raise
    return out
