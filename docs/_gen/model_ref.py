"""The canonical model reference, generated from `caudal.model.json_schema()`."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel

import caudal.model as model

from .render import attribute_docs, cell, code, docstring, py_type, schema_type, table, validators

__all__ = ["SCHEMA_FILE", "model_reference", "schema_json"]

SCHEMA_FILE = "canonical-model.schema.json"

VALUES = ("Money", "Party", "TaxScheme")


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _sections(defs: Mapping[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Records (each capability's record, then the types only it uses), values, outcomes: all
    from the capability descriptors, so a new capability has its section without an edit."""
    from caudal.capabilities import DESCRIPTORS

    records = [d.record.__name__ for d in DESCRIPTORS.values()]
    listed: list[str] = []
    for record in records:
        todo = [record]
        while todo:
            name = todo.pop(0)
            if name in listed or name in VALUES or name not in defs:
                continue
            if name != record and name in records:
                continue
            listed.append(name)
            todo += list(_refs(defs[name]))
    gives = ", ".join(
        f"`{d.name}` gives `{d.record.__name__}`" + (" (paged)" if d.paged else "")
        for d in DESCRIPTORS.values()
    )
    results = tuple(f"Result_{record}_" for record in records)
    return [
        ("Records", f"What a capability's `Result` holds: {gives}.", tuple(listed)),
        ("Values", "The building blocks records are made of.", VALUES),
        (
            "Outcomes",
            "What a capability call gives back: a `Result`, a `Pending` operation (with "
            "`callback_url=`), or a `Challenge` to answer (raised inside `ChallengeRequired`).",
            (*results, "Pending", "Challenge"),
        ),
    ]


HIDDEN = frozenset({"JsonValue"})

VALIDATED: dict[str, str] = {
    "_check_currency": "an ISO 4217 code, checked against the maintained table",
    "exact_decimal": "exact: the provider's digits; a float is refused",
    "exact_unsigned": "exact, zero or more; a float is refused",
    "iso_date": "a date written YYYY-MM-DD",
    "offset_date_time": "a date-time always carries its UTC offset",
    "date_or_offset_date_time": "a date, or a date-time with its UTC offset",
    "AwareDatetime": "a date-time always carries its UTC offset",
}
"""What a field's validator guarantees, by the validator's name in `caudal.model`."""


def schema_json() -> str:
    """The canonical model's JSON Schema, as published beside the reference."""
    return json.dumps(model.json_schema(), indent=2) + "\n"


def _display(name: str) -> str:
    if name.startswith("Result_") and name.endswith("_"):
        return f"Result[{name[7:-1]}]"
    return name


def _anchor(name: str) -> str:
    return _display(name).lower().replace("[", "-").replace("]", "")


def _link(name: str) -> str:
    if name in HIDDEN:
        return "any JSON"
    return f"[{_display(name)}](#{_anchor(name)})"


def _python_class(name: str) -> type | None:
    if name.startswith("Result_") and name.endswith("_"):
        record = getattr(model, name[7:-1], None)
        return model.Result[record] if isinstance(record, type) else None  # type: ignore[valid-type]
    found = getattr(model, name, None)
    return found if isinstance(found, type) else None


def _object(name: str, schema: Mapping[str, Any]) -> list[str]:
    cls = _python_class(name)
    fields = cls.model_fields if isinstance(cls, type) and issubclass(cls, BaseModel) else {}
    notes = attribute_docs(cls) if cls is not None else {}
    required = set(schema.get("required", ()))
    rows = []
    for field, sub in schema.get("properties", {}).items():
        info = fields.get(field)
        python = code(py_type(info.annotation)) if info is not None else ""
        if field in required:
            default = "required"
        elif "default" in sub:
            default = code(json.dumps(sub["default"], ensure_ascii=False))
        elif info is not None and info.default_factory is not None:
            made = info.default_factory()  # type: ignore[call-arg]
            empty = isinstance(made, dict | list | tuple) and not made
            default = code(json.dumps(made)) if empty else "(the time of creation)"
        else:
            default = "(computed)"
        said = [notes[field]] if field in notes else []
        if info is not None:
            checks = validators(info.annotation, info.metadata)
            said += [VALIDATED[v] for v in dict.fromkeys(checks) if v in VALIDATED]
        rows.append([code(field), schema_type(sub, _link), python, default, cell("; ".join(said))])
    lines = [table(["field", "JSON", "Python", "default", "notes"], rows)]
    if schema.get("additionalProperties") is False:
        lines.append('\nUnknown fields are refused (`extra="forbid"`); instances are frozen.')
    return lines


def _enum(name: str, schema: Mapping[str, Any]) -> list[str]:
    cls = _python_class(name)
    notes = attribute_docs(cls) if isinstance(cls, type) and issubclass(cls, Enum) else {}
    members = (
        {m.value: m.name for m in cls} if isinstance(cls, type) and issubclass(cls, Enum) else {}
    )
    rows = [
        [
            code(value),
            code(f"{name}.{members[value]}") if value in members else "",
            cell(notes.get(members.get(value, ""), "")),
        ]
        for value in schema.get("enum", ())
    ]
    return [table(["value", "Python", "notes"], rows)]


def _definition(name: str, schema: Mapping[str, Any]) -> list[str]:
    lines = [f"### {_display(name)} {{ #{_anchor(name)} }}", ""]
    cls = _python_class(name)
    description = schema.get("description") or (docstring(cls.__mro__[1]) if cls else "")
    if description:
        lines += [str(description), ""]
    if "enum" in schema:
        lines += _enum(name, schema)
    else:
        lines += _object(name, schema)
    return [*lines, ""]


def _same_result(name: str, defs: Mapping[str, Any]) -> bool:
    """Whether `name` is a Result[...] like an earlier one but for `items`: not shown again."""
    if not name.startswith("Result_"):
        return False

    def shape(n: str) -> dict[str, Any]:
        props = dict(defs[n].get("properties", {}))
        props.pop("items", None)
        return {**defs[n], "properties": props, "title": ""}

    results = _result_names(defs)
    return any(shape(other) == shape(name) for other in results[: results.index(name)])


def _result_names(defs: Mapping[str, Any]) -> list[str]:
    """Every `Result_*` definition, in the capabilities' order (balance's first)."""
    from caudal.capabilities import DESCRIPTORS

    order = [f"Result_{d.record.__name__}_" for d in DESCRIPTORS.values()]
    found = [n for n in defs if n.startswith("Result_")]
    return sorted(found, key=lambda n: order.index(n) if n in order else len(order))


def _results_note(defs: Mapping[str, Any]) -> list[str]:
    results = _result_names(defs)
    shown = [n for n in results if not _same_result(n, defs)]
    same = [n for n in results if _same_result(n, defs)]
    if not same:
        return []
    names = ", ".join(f"`{_display(n)}`" for n in same)
    return [
        f"{names}: the same fields as `{_display(shown[0])}`, with `items` holding that record.",
        "",
    ]


def model_reference() -> str:
    """The whole reference page."""
    schema = model.json_schema()
    defs: Mapping[str, Any] = schema.get("$defs", {})  # type: ignore[assignment]
    sections = _sections(defs)
    shown = {n for _, _, names in sections for n in names}
    lines = [
        "# Canonical model reference",
        "",
        "<!-- Generated at build time from caudal.model.json_schema(); do not edit. -->",
        "",
        "Every connector returns these types, whichever provider the data came from. Field names",
        "are part of caudal's contract: a breaking change needs a major version (see",
        "[versioning](../contributing.md#versioning)). The **JSON** column is what",
        "`model_dump_json()` writes (amounts are strings, so no digit is lost); the **Python**",
        "column is the attribute's type. The full JSON Schema (2020-12) is",
        f"[{SCHEMA_FILE}]({SCHEMA_FILE}).",
        "",
    ]
    for title, intro, names in sections:
        lines += [f"## {title}", "", intro, ""]
        for name in names:
            if name in defs and not _same_result(name, defs):
                lines += _definition(name, defs[name])
        if title == "Outcomes":
            lines += _results_note(defs)
    rest = sorted(n for n in defs if n not in shown and n not in HIDDEN)
    if rest:
        lines += ["## Other types", ""]
        for name in rest:
            lines += _definition(name, defs[name])
    return "\n".join(lines)
