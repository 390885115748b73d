"""Markdown helpers: escaping, tables, and type names from JSON Schema or Python annotations."""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import re
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from caudal.model import NativeCheck

__all__ = [
    "attribute_docs",
    "cell",
    "code",
    "docstring",
    "first_line",
    "is_secret",
    "py_type",
    "schema_type",
    "table",
]

_MARKDOWN = re.compile(r"([\\*_\[\]|#])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def cell(text: object) -> str:
    """Prose for a table cell or a line, on one line: Markdown characters escaped, except
    inside `code spans`, which stay code."""
    flat = " ".join(str(text).split())
    out, last = [], 0
    for span in _CODE_SPAN.finditer(flat):
        out += [_prose(flat[last : span.start()]), span.group(0)]
        last = span.end()
    out.append(_prose(flat[last:]))
    return "".join(out)


def _prose(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def code(value: object) -> str:
    """`value` as inline code (a `|` inside code does not split a table cell)."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table; cells are taken as they are (escape prose with `cell`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def docstring(obj: object) -> str:
    """The cleaned docstring of `obj` (its own, not inherited), or ''."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def first_line(obj: object) -> str:
    """The first paragraph of a docstring, on one line."""
    return " ".join(docstring(obj).split("\n\n")[0].split())


_FOREIGN = frozenset({"builtins", "pydantic", "pydantic_settings", "enum", "typing", "abc"})


@functools.cache
def attribute_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings (a string literal right after `name: T = ...`) of `cls` and bases."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] in _FOREIGN:
            continue  # pydantic's and the standard library's own classes: nothing of ours
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        node = ast.parse(source).body[0]
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for stmt, after in itertools.pairwise(body):
            target = None
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target = stmt.target.id
            elif (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                target = stmt.targets[0].id
            if (
                target
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[target] = " ".join(inspect.cleandoc(after.value.value).split())
    return found


# -- JSON Schema ---------------------------------------------------------------------------------


def schema_type(schema: Mapping[str, Any], link: Callable[[str], str] | None = None) -> str:
    """A reader's name for the values a JSON Schema accepts (`string (date-time) or null`)."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return link(name) if link else code(name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(schema_type(alt, link) for alt in schema[key])
    if "const" in schema:
        return code(_json(schema["const"]))
    if "enum" in schema:
        return " or ".join(code(_json(v)) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        inner = schema_type(items, link) if isinstance(items, Mapping) else "any JSON"
        return f"array of {inner}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and "properties" not in schema:
            return f"object of string to {schema_type(extra, link)}"
        return "object"
    if kind is None:
        return "any JSON"
    text = str(kind)
    if schema.get("format") == "password":
        return "secret string"
    if "format" in schema:
        text += f" ({schema['format']})"
    if "pattern" in schema:
        text += f" matching {code(schema['pattern'])}"
    limits = [
        f"{k} {schema[k]}" for k in ("minLength", "maxLength", "minimum", "maximum") if k in schema
    ]
    if limits:
        text += f" ({', '.join(limits)})"
    return text


def _json(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


# -- Python annotations -------------------------------------------------------------------------


def py_type(annotation: Any) -> str:
    """A short, readable Python type (`Decimal | None`, `tuple[FundShare, ...]`)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return py_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " | ".join(py_type(arg) for arg in get_args(annotation))
    if origin is Literal:
        return " | ".join(repr(arg) for arg in get_args(annotation))
    if origin is not None:
        args = get_args(annotation)
        name = getattr(origin, "__name__", str(origin))
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{py_type(args[0])}, ...]"
        return f"{name}[{', '.join(py_type(a) for a in args)}]" if args else name
    if annotation is type(None):
        return "None"
    if annotation is typing.Any:
        return "Any"
    if getattr(annotation, "__name__", None) == "AwareDatetime":
        return "datetime"  # pydantic's AwareDatetime: a datetime that must carry its offset
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def validators(annotation: Any, metadata: Sequence[Any] = ()) -> list[str]:
    """Names of the functions validating a field (through unions and `Annotated`)."""
    found = [getattr(getattr(m, "func", None), "__name__", "") for m in metadata]
    found += [m.name for m in metadata if isinstance(m, NativeCheck)]
    if get_origin(annotation) is Annotated:
        _, *meta = get_args(annotation)
        found += validators(get_args(annotation)[0], meta)
    else:
        for arg in get_args(annotation):
            found += validators(arg)
    if getattr(annotation, "__name__", None) == "AwareDatetime":
        found.append("AwareDatetime")
    return [f for f in found if f]


def is_secret(annotation: Any) -> bool:
    """Whether a settings field holds a `SecretStr` (directly, optionally or annotated)."""
    if annotation is SecretStr:
        return True
    return any(is_secret(arg) for arg in get_args(annotation))


def default_of(field: Any) -> str:
    """A pydantic FieldInfo's default, for a table: `required`, a value, or `(computed)`."""
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "(computed)"
    value = field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, Enum):
        value = value.value
    return code(repr(value))
