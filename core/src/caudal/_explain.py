"""Settings and call parameters in plain words: for `caudal about`, `--help` and error messages.

A host-app developer reads these, not pydantic's schema: `non-empty text`, not
`function-after[_non_empty(), lax-or-strict[...]]`. Secrets are described, never shown.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["Field", "parameter_fields", "problems", "setting_fields", "type_words"]

_SCALARS: dict[Any, str] = {
    str: "text",
    SecretStr: "secret text",
    bool: "true or false",
    int: "integer",
    float: "number",
    Decimal: "decimal number",
    date: "date (YYYY-MM-DD)",
    datetime: "date and time with offset (ISO 8601)",
}


def _min_length(metadata: Sequence[Any]) -> int:
    return max((getattr(m, "min_length", 0) or 0 for m in metadata), default=0)


def _is_currency(annotation: Any) -> bool:
    from .model import CurrencyCode

    return bool(annotation == CurrencyCode)


def type_words(annotation: Any, metadata: Sequence[Any] = (), *, depth: int = 0) -> str:
    """What values an annotation accepts, in words (`non-empty text`, `true or false`)."""
    if _is_currency(annotation):
        return "ISO 4217 currency code (e.g. CLP)"
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *meta = get_args(annotation)
        return type_words(inner, [*metadata, *meta], depth=depth)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(type_words(a, metadata, depth=depth) for a in members)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(annotation))
    if origin in (list, tuple, set, frozenset):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return "list of " + (type_words(args[0], depth=depth) if args else "values")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(repr(m.value) for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if depth >= 2:
            return "object"
        inner = ", ".join(
            f'"{name}": {type_words(f.annotation, f.metadata, depth=depth + 1)}'
            for name, f in annotation.model_fields.items()
        )
        return "{" + inner + "}"
    words = _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))
    return (
        f"non-empty {words}" if _min_length(metadata) and annotation in (str, SecretStr) else words
    )


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_is_secret(a) for a in get_args(annotation))


def _optional(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


def _default(info: FieldInfo, secret: bool) -> str | None:
    if info.is_required():
        return None
    if info.default_factory is not None:
        return "(computed)"
    value = info.default
    if value is PydanticUndefined or value is None:
        return "none"
    if secret:
        return "(set)"
    return str(value.value if isinstance(value, Enum) else value)


@dataclass(frozen=True)
class Field:
    """One setting or parameter as a reader needs it."""

    name: str
    accepts: str
    required: bool
    default: str | None
    secret: bool = False
    env: str | None = None
    """The environment variable of a setting (None for a call parameter)."""
    example: str | None = None
    about: str = ""


def _about(info: FieldInfo, docs: dict[str, str], name: str) -> str:
    return info.description or docs.get(name, "")


def setting_fields(settings_class: type[BaseModel]) -> list[Field]:
    """A connector's settings: environment variable, accepted values, default, secret or not.

    Required ones first: they are what a new user has to provide.
    """
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    docs = _attribute_docs(settings_class)
    found = []
    for name, info in settings_class.model_fields.items():
        secret = _is_secret(info.annotation)
        found.append(
            Field(
                name=name,
                accepts=type_words(info.annotation, info.metadata),
                required=info.is_required(),
                default=_default(info, secret),
                secret=secret,
                env=f"{prefix}{name.upper()}",
                about=_about(info, docs, name),
            )
        )
    return sorted(found, key=lambda f: not f.required)


def parameter_fields(params: type[BaseModel], example: dict[str, Any] | None = None) -> list[Field]:
    """A capability's call parameters; `example` gives values a working call used."""
    import json

    shown = example or {}
    found = []
    for name, info in params.model_fields.items():
        value = shown.get(name)
        if value is not None and _is_secret(info.annotation):
            value = None  # a sandbox login is harmless, but an example never shows a secret
        found.append(
            Field(
                name=name,
                accepts=type_words(info.annotation, info.metadata),
                required=info.is_required(),
                default=_default(info, False),
                example=None if value is None else _cli_value(value, json),
            )
        )
    return found


def _cli_value(value: Any, json: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _attribute_docs(cls: type) -> dict[str, str]:
    """`name: T = ...` followed by a docstring, in `cls` and its bases (ours only)."""
    import ast
    import inspect
    import itertools
    import textwrap

    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] in {"builtins", "pydantic", "pydantic_settings"}:
            continue
        try:
            node = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0]
        except (OSError, TypeError, SyntaxError, IndexError):
            continue
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt, after in itertools.pairwise(node.body):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[stmt.target.id] = " ".join(after.value.value.split())
    return found


_PLAIN = {
    "missing": "required",
    "extra_forbidden": "Extra inputs are not permitted",
}


def problems(exc: ValidationError, model: type[BaseModel], *, env_prefix: str = "") -> str:
    """What is wrong with each field, in plain words, never with the value given (a secret?).

    A field whose value fits none of its accepted forms (a union) is one problem that names
    the forms, not one line per form with pydantic's internal names for them.
    """
    by_field: dict[str, list[Any]] = {}
    for err in exc.errors(include_url=False, include_input=False):
        loc = err["loc"]
        by_field.setdefault(str(loc[0]) if loc else "", []).append(err)
    parts = []
    for name, errors in by_field.items():
        info = model.model_fields.get(name)
        label = f"{name} ({env_prefix}{name.upper()})" if env_prefix and info else name
        if not name:
            parts.append("; ".join(_message(e) for e in errors))
        elif info is not None and (len(errors) > 1 or _internal(errors[0]["loc"][1:])):
            parts.append(f"{label}: expected {type_words(info.annotation, info.metadata)}")
        else:
            inner = [str(k) for k in errors[0]["loc"][1:]]
            where = ".".join([label, *inner]) if inner else label
            parts.append(f"{where}: {_message(errors[0])}")
    return "; ".join(parts)


def _internal(loc: Sequence[int | str]) -> bool:
    return any(isinstance(k, str) and ("[" in k or "(" in k) for k in loc)


def _message(err: Any) -> str:
    plain = _PLAIN.get(err["type"])
    if plain:
        return plain
    if (
        err["type"] in {"too_short", "string_too_short"}
        and err.get("ctx", {}).get("min_length") == 1
    ):
        return "must not be empty"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")
