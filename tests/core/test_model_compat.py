"""The canonical model's compatibility guard: a breaking change needs a major version bump.

`model_schema.snapshot.json` (beside this file) holds the JSON Schema of the canonical model
(`caudal.model.json_schema()`, without titles and descriptions, so docstring edits do not count)
and the `caudal` version it was recorded at. The test compares the current schema with it:

- a BREAKING change (a model or field removed, a field made required, a type narrowed, an enum
  value removed, a constraint tightened) fails unless `caudal`'s breaking version digit was
  bumped since the snapshot: the major version, or the minor one while the major is 0 (semver
  gives no guarantee below 1.0, and plugins pin `caudal>=0.1,<0.2` accordingly);
- any other change (a new model, a new optional field, a new enum value, a new default) fails
  until the snapshot is refreshed, so every change to the contract is reviewed in a diff:

      CAUDAL_UPDATE_SCHEMA_SNAPSHOT=1 .venv/bin/pytest tests/core/test_model_compat.py

  Refreshing never accepts a breaking change without the version bump.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import caudal
from caudal.model import json_schema

SNAPSHOT = Path(__file__).with_name("model_schema.snapshot.json")
UPDATE_ENV = "CAUDAL_UPDATE_SCHEMA_SNAPSHOT"
CORE_PYPROJECT = Path(__file__).parents[2] / "core" / "pyproject.toml"
REFRESH = f"{UPDATE_ENV}=1 .venv/bin/pytest tests/core/test_model_compat.py"

Schema = Mapping[str, Any]

# Keywords that document rather than constrain: edits to them are never a compatibility matter.
_PROSE = frozenset({"title", "description", "examples", "$comment"})
# Keywords whose value maps names to schemas: their keys are field names, not keywords.
_NAMED = frozenset({"properties", "$defs", "patternProperties"})


# -- the checker ---------------------------------------------------------------------------------


def normalized(schema: Any, *, named: bool = False) -> Any:
    """`schema` without prose keywords (titles, descriptions), at every depth."""
    if isinstance(schema, dict):
        return {
            key: normalized(value, named=key in _NAMED and not named)
            for key, value in schema.items()
            if named or key not in _PROSE
        }
    if isinstance(schema, list):
        return [normalized(item) for item in schema]
    return schema


def _alternatives(schema: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [alt for member in schema[key] for alt in _alternatives(member)]
    return [schema]


def _kind(schema: Schema) -> str:
    if "$ref" in schema:
        return "ref"
    if "enum" in schema or "const" in schema:
        return "enum"
    if "type" in schema:
        return str(schema["type"])
    return "any"


def _describe(schema: Schema) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return f"one of {schema['enum']}"
    if "const" in schema:
        return f"{schema['const']!r}"
    if "type" in schema:
        fmt = f" ({schema['format']})" if "format" in schema else ""
        return f"{schema['type']}{fmt}"
    return "anything"


class _Checker:
    """Finds what a value valid under the old schema could no longer be under the new one."""

    def __init__(self, old: Schema, new: Schema) -> None:
        self.old_defs: Schema = old.get("$defs", {})
        self.new_defs: Schema = new.get("$defs", {})
        self._seen: set[tuple[str, str]] = set()

    def _resolve(self, schema: Schema, defs: Schema) -> Schema:
        while "$ref" in schema:
            schema = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        return schema

    def models(self) -> Iterator[str]:
        for name, old in self.old_defs.items():
            if name not in self.new_defs:
                yield f"{name}: model removed"
            else:
                yield from self.compare(name, old, self.new_defs[name])

    def compare(self, where: str, old: Schema, new: Schema) -> Iterator[str]:
        if "$ref" in old and "$ref" in new:
            old_name = str(old["$ref"]).rsplit("/", 1)[-1]
            new_name = str(new["$ref"]).rsplit("/", 1)[-1]
            if old_name == new_name and old_name in self.new_defs:
                return  # the model itself is compared under its own name
            if (old_name, new_name) in self._seen:
                return
            self._seen.add((old_name, new_name))
        old = self._resolve(old, self.old_defs)
        new = self._resolve(new, self.new_defs)
        if not new or new == {"$defs": new.get("$defs")}:
            return  # the new schema accepts anything
        for old_alt in _alternatives(old):
            yield from self._covered(where, old_alt, _alternatives(new))

    def _covered(self, where: str, old: Schema, new_alts: list[Schema]) -> Iterator[str]:
        """Problems of the best new alternative for `old`; none if one accepts all of it."""
        if "$ref" in old and any(n.get("$ref") == old["$ref"] for n in new_alts):
            return  # the same model is still accepted; compared under its own name
        old = self._resolve(old, self.old_defs)
        candidates = []
        for new in new_alts:
            new = self._resolve(new, self.new_defs)
            if _kind(new) == "any" or _kind(old) == _kind(new) or self._widens(old, new):
                problems = list(self._same_kind(where, old, new))
                if not problems:
                    return
                candidates.append(problems)
        if candidates:
            yield from min(candidates, key=len)
        else:
            now = " | ".join(_describe(self._resolve(n, self.new_defs)) for n in new_alts)
            yield f"{where}: type narrowed: {_describe(old)} is no longer accepted (now {now})"

    @staticmethod
    def _widens(old: Schema, new: Schema) -> bool:
        return (_kind(old), _kind(new)) == ("integer", "number") or (
            _kind(old) == "enum" and _kind(new) in ("string", "integer", "number")
        )

    def _same_kind(self, where: str, old: Schema, new: Schema) -> Iterator[str]:
        if _kind(new) == "any":
            return
        if _kind(old) == "enum":
            old_values = old.get("enum", [old.get("const")])
            if _kind(new) == "enum":
                new_values = new.get("enum", [new.get("const")])
                removed = [v for v in old_values if v not in new_values]
                if removed:
                    yield f"{where}: enum value(s) removed: {removed}"
            return
        yield from self._constraints(where, old, new)
        if _kind(old) == "object":
            yield from self._object(where, old, new)
        elif _kind(old) == "array":
            if "items" in old and "items" in new:
                yield from self.compare(f"{where}[]", old["items"], new["items"])
            elif "items" in new:
                yield f"{where}: type narrowed: array items now constrained"

    @staticmethod
    def _constraints(where: str, old: Schema, new: Schema) -> Iterator[str]:
        for key in ("format", "pattern"):
            if key in new and new.get(key) != old.get(key):
                yield f"{where}: type narrowed: {key} {old.get(key)!r} -> {new[key]!r}"
        for key in ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties"):
            if key in new and (key not in old or new[key] > old[key]):
                yield f"{where}: type narrowed: {key} {old.get(key)!r} -> {new[key]!r}"
        for key in ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties"):
            if key in new and (key not in old or new[key] < old[key]):
                yield f"{where}: type narrowed: {key} {old.get(key)!r} -> {new[key]!r}"

    def _object(self, where: str, old: Schema, new: Schema) -> Iterator[str]:
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        for field, sub in old_props.items():
            if field not in new_props:
                yield f"{where}.{field}: field removed"
            else:
                yield from self.compare(f"{where}.{field}", sub, new_props[field])
        newly_required = set(new.get("required", ())) - set(old.get("required", ()))
        for field in sorted(newly_required):
            added = "" if field in old_props else " (a new required field)"
            yield f"{where}.{field}: field made required{added}"
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            yield f"{where}: type narrowed: additional properties no longer allowed"
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            yield from self.compare(f"{where}{{*}}", old_extra, new_extra)


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every way in which data valid under `old` is no longer valid under `new`."""
    return list(_Checker(normalized(old), normalized(new)).models())


def additions(old: Schema, new: Schema) -> list[str]:
    """Models and fields `new` has that `old` had not (compatible, but a snapshot refresh)."""
    old_defs, new_defs = normalized(old).get("$defs", {}), normalized(new).get("$defs", {})
    found = [f"{name}: model added" for name in new_defs if name not in old_defs]
    for name, schema in new_defs.items():
        before = old_defs.get(name, {}).get("properties")
        if before is not None:
            found += [
                f"{name}.{f}: field added" for f in schema.get("properties", {}) if f not in before
            ]
    return found


def breaking_release(recorded: str, current: str) -> bool:
    """Whether `current` may break what `recorded` promised: a new major (a new minor in 0.x)."""
    old, new = Version(recorded), Version(current)
    if new.major != old.major:
        return new.major > old.major
    return new.major == 0 and new.minor > old.minor


# -- the guard on caudal's own model ------------------------------------------------------------


def _snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def _write_snapshot(schema: Schema) -> None:
    body = {"caudal_version": caudal.__version__, "schema": normalized(schema)}
    SNAPSHOT.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def verdict(recorded: Schema, current: Schema, version: str) -> tuple[str, list[str]]:
    """`ok`, `breaking` (refused), `bumped` (breaking, allowed: refresh) or `changed` (refresh)."""
    schema, current = normalized(recorded["schema"]), normalized(current)
    breaking = breaking_changes(schema, current)
    if breaking:
        bumped = breaking_release(recorded["caudal_version"], version)
        return ("bumped" if bumped else "breaking"), breaking
    if current == schema:
        return "ok", []
    return "changed", additions(schema, current) or ["(defaults, formats or constraints)"]


def test_canonical_model_is_compatible_with_the_snapshot() -> None:
    recorded, current = _snapshot(), json_schema()
    status, what = verdict(recorded, current, caudal.__version__)
    listed = "\n  ".join(what)
    if status == "breaking":
        pytest.fail(
            "BREAKING change of the canonical model without a major version bump "
            f"(snapshot recorded at caudal {recorded['caudal_version']}, now "
            f"{caudal.__version__}):\n  {listed}\n"
            "Host apps and plugins rely on these fields. Either keep the model compatible "
            "(add instead of change; deprecate before removing), or bump caudal's major version "
            "(the minor one while it is 0.x) in core/pyproject.toml and caudal.__version__, "
            f"then refresh the snapshot: {REFRESH}"
        )
    if status == "ok":
        return
    if os.environ.get(UPDATE_ENV) == "1":
        _write_snapshot(current)
        return
    kind = "a breaking change, with the version bumped" if status == "bumped" else "compatible"
    pytest.fail(
        f"The canonical model changed ({kind}):\n  {listed}\n"
        f"Review it, then refresh the snapshot and commit it with the change: {REFRESH}"
    )


def test_version_is_declared_once() -> None:
    declared = tomllib.loads(CORE_PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    assert caudal.__version__ == declared, (
        f"caudal.__version__ is {caudal.__version__} but core/pyproject.toml says {declared}"
    )


def test_snapshot_is_normalized_and_current_for_its_version() -> None:
    recorded = _snapshot()
    assert normalized(recorded["schema"]) == recorded["schema"]
    assert Version(recorded["caudal_version"]) <= Version(caudal.__version__)


# -- the checker itself ---------------------------------------------------------------------------


class Kind(StrEnum):
    A = "a"
    B = "b"


class KindFewer(StrEnum):
    A = "a"


def _schema_of(*models: type[BaseModel]) -> dict[str, Any]:
    _, schema = models_json_schema([(m, "serialization") for m in models])
    return schema


def _renamed(model: type[BaseModel], name: str) -> type[BaseModel]:
    return type(name, (model,), {"__module__": __name__})


class RecordV1(BaseModel):
    account_id: str | None = None
    amount: str
    as_of: datetime | date
    kind: Kind


def _v2(**fields: Any) -> type[BaseModel]:
    """`RecordV1` with some fields changed (annotation, or (annotation, default)), as `Record`."""
    annotations = dict(RecordV1.__annotations__)
    defaults = {"account_id": None}
    for name, spec in fields.items():
        if spec is None:
            annotations.pop(name, None)
            defaults.pop(name, None)
        elif isinstance(spec, tuple):
            annotations[name], defaults[name] = spec
        else:
            annotations[name] = spec
            defaults.pop(name, None)
    namespace = {"__annotations__": annotations, "__module__": __name__, **defaults}
    return type("Record", (BaseModel,), namespace)


OLD = _schema_of(_renamed(RecordV1, "Record"))


def test_identical_schemas_have_no_breaking_change() -> None:
    assert breaking_changes(OLD, _schema_of(_v2())) == []


def test_checker_flags_a_removed_field() -> None:
    problems = breaking_changes(OLD, _schema_of(_v2(account_id=None)))
    assert problems == ["Record.account_id: field removed"]


def test_checker_flags_a_removed_model() -> None:
    assert breaking_changes(OLD, {"$defs": {}}) == ["Kind: model removed", "Record: model removed"]


def test_checker_flags_a_narrowed_type() -> None:
    no_none = breaking_changes(OLD, _schema_of(_v2(account_id=(str, ""))))
    assert no_none == ["Record.account_id: type narrowed: null is no longer accepted (now string)"]
    no_date = breaking_changes(OLD, _schema_of(_v2(as_of=datetime)))
    assert no_date == [
        "Record.as_of: type narrowed: format 'date' -> 'date-time'",
    ]
    other_type = breaking_changes(OLD, _schema_of(_v2(amount=int)))
    assert other_type == [
        "Record.amount: type narrowed: string is no longer accepted (now integer)"
    ]


def test_checker_flags_a_field_made_required() -> None:
    problems = breaking_changes(OLD, _schema_of(_v2(account_id=str | None)))
    assert problems == ["Record.account_id: field made required"]
    added = breaking_changes(OLD, _schema_of(_v2(note=str)))
    assert added == ["Record.note: field made required (a new required field)"]


def test_checker_flags_a_removed_enum_value() -> None:
    problems = breaking_changes(OLD, _schema_of(_v2(kind=KindFewer)))
    assert problems == ["Kind: model removed", "Record.kind: enum value(s) removed: ['b']"]


def test_compatible_additions_are_not_breaking() -> None:
    wider = _schema_of(_v2(note=(str | None, None), amount=str | int, as_of=datetime | date | str))
    assert breaking_changes(OLD, wider) == []
    assert additions(OLD, wider) == ["Record.note: field added"]


def test_prose_is_ignored_but_property_names_are_kept() -> None:
    schema = {"title": "T", "properties": {"title": {"type": "string", "description": "d"}}}
    assert normalized(schema) == {"properties": {"title": {"type": "string"}}}


def test_verdict_needs_a_bump_for_a_breaking_change_and_a_refresh_for_any() -> None:
    recorded = {"caudal_version": "1.2.0", "schema": normalized(OLD)}
    assert verdict(recorded, OLD, "1.2.0") == ("ok", [])
    fewer = _schema_of(_v2(account_id=None))
    assert verdict(recorded, fewer, "1.3.0") == ("breaking", ["Record.account_id: field removed"])
    assert verdict(recorded, fewer, "2.0.0") == ("bumped", ["Record.account_id: field removed"])
    more = _schema_of(_v2(note=(str | None, None)))
    assert verdict(recorded, more, "1.2.0") == ("changed", ["Record.note: field added"])


def test_breaking_release_rule() -> None:
    assert breaking_release("1.4.2", "2.0.0")
    assert not breaking_release("1.4.2", "1.5.0")
    assert breaking_release("0.1.0", "0.2.0")
    assert not breaking_release("0.1.0", "0.1.5")
    assert not breaking_release("2.0.0", "1.9.0")
