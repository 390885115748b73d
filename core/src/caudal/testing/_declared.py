"""The properties derived from a capability's declared provenance.

- *declarations*: every raw field of the raw model is mapped or ignored with a reason; every
  declared path exists; every target is a field of the record; every required record field
  has a declared source;
- *golden examples*: the provider documentation's bodies give the hand-written records;
- *conservation*: every declared raw value reaches its target(s), transformed as declared,
  exactly, and each raw item gives its records (none swallowed);
- *perturbation*: changing one raw value changes exactly its declared targets, to the
  transformed new value, and nothing else; changing an ignored field changes nothing;
- *scale* (minor units): the amount is divided by the ISO 4217 exponent of each currency;
- *sign and kind*: flipping an indicator flips exactly the sign; every word of a kind table
  gives its declared kind, any other word the default;
- *nulls*: a declared-nullable raw value, null or absent, gives its declared value; the record
  is kept and nothing crashes.

Each failure names the raw field, the canonical target, what differed and the body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ..capabilities import CAPABILITIES
from ..connector import Connector
from ..errors import CaudalError
from ..model import currency_codes, minor_units
from ..provenance import Provenance, spell, tokens
from ._golden import Golden, differences
from ._oracle import check_body, raw_items
from ._paths import (
    MISSING,
    Concrete,
    leaves,
    matches,
    occurrences,
    raw_leaves,
    record_has,
    replace,
    spell_concrete,
    starts_with,
)
from .strategies import json_text

__all__ = ["declared_suite"]

BODY_SHOWN = 1500
"""Characters of the example body a failure message shows (bodies can be large)."""
UNKNOWN_WORD = "caudal-unknown-word"


def _fail(name: str, problem: str, body: Any) -> AssertionError:
    text = json_text(body)
    shown = text if len(text) <= BODY_SHOWN else text[:BODY_SHOWN] + "..."
    return AssertionError(f"{name}: {problem}\nbody: {shown}")


def representative_currencies() -> list[str]:
    """One ISO 4217 currency per distinct exponent (0, 2, 3, 4, ...), plus the region's own."""
    by_exponent: dict[int, str] = {}
    for code in sorted(currency_codes()):
        exponent = minor_units(code)
        if exponent is not None:
            by_exponent.setdefault(exponent, code)
    return sorted({*by_exponent.values(), "CLP", "CLF", "BRL", "USD", "MXN", "COP"})


# -- static checks of the declaration ------------------------------------------------------------


def declaration_problems(prov: Provenance) -> list[str]:
    """What is wrong with a declaration against its raw model and record type."""
    raw = raw_leaves(prov.raw)
    record = CAPABILITIES[prov.capability]
    problems = []
    inputs = {prov.absolute(p) for m in prov.maps for p in m.inputs()}
    ignored = [prov.absolute(i.path) for i in prov.ignored]
    for path in sorted(inputs - raw):
        problems.append(f"{spell(path)} is declared but is not a field of the raw model")
    for path in ignored:
        if not any(leaf[: len(path)] == path for leaf in raw):
            problems.append(f"{spell(path)} is declared ignored but is not in the raw model")
    for leaf in sorted(raw - inputs):
        if not any(leaf[: len(i)] == i for i in ignored):
            problems.append(
                f"raw field {spell(leaf)} is neither mapped nor declared ignored (with a reason)"
            )
    targets = [tokens(m.target) for m in prov.maps]
    for target in targets:
        if target[0] != "result" and not record_has(record, target):
            problems.append(f"{'.'.join(target)} is not a field of {record.__name__}")
    for name, info in record.model_fields.items():
        if info.is_required() and not any(t[0] == name for t in targets):
            problems.append(f"{record.__name__}.{name} is required but no raw field is declared")
    return problems


# -- perturbations ------------------------------------------------------------------------------


Role = tuple[int, str]
"""(index of the map in the declaration, `source`/`currency`/`sign`)."""


def roles_of(prov: Provenance, path: Concrete) -> list[Role]:
    """Which declared inputs a concrete raw path is."""
    found = []
    for n, m in enumerate(prov.maps):
        for role, declared in (
            ("source", m.source),
            ("currency", m.currency_from),
            ("currency", m.currency_else),
            ("sign", m.sign.field if m.sign else None),
        ):
            if declared and matches(prov.absolute(declared), path):
                found.append((n, role))
    return found


def candidates(prov: Provenance, body: Any) -> list[tuple[Concrete, list[Role]]]:
    """Every raw value of `body` that is a declared input, or lies under an ignored field."""
    ignored = [prov.absolute(i.path) for i in prov.ignored]
    out = []
    for path, value in leaves(body):
        if value is None or isinstance(value, dict | list):
            continue
        roles = roles_of(prov, path)
        if roles or any(starts_with(i, path) for i in ignored):
            out.append((path, roles))
    return out


def _digit_changed(text: str) -> str | None:
    for i, ch in enumerate(text):
        if ch.isdigit() and ch.isascii():
            new = str(int(ch) + 1) if ch != "9" else "8"
            return text[:i] + new + text[i + 1 :]
    return None


def other_value(prov: Provenance, value: Any, roles: list[Role], draw: Callable[[Any], Any]) -> Any:
    """Another valid raw value for a field with these roles."""
    kinds = {role for _, role in roles}
    maps = [prov.maps[n] for n, _ in roles]
    if "sign" in kinds:
        sign = next(m.sign for m in maps if m.sign)
        assert sign is not None
        return sign.positive if value == sign.negative else sign.negative
    if "currency" in kinds:
        return draw(st.sampled_from([c for c in representative_currencies() if c != value]))
    table = next((m.table for m in maps if m.transform == "kind"), None)
    if table is not None:
        return draw(st.sampled_from([w for w in [*table, UNKNOWN_WORD] if w != value]))
    return _changed(value, draw)


def _changed(value: Any, draw: Callable[[Any], Any]) -> Any:
    if isinstance(value, bool):
        return not value
    delta = draw(st.integers(1, 10**6))
    if isinstance(value, int):
        return value + delta
    if isinstance(value, Decimal):
        with localcontext() as ctx:
            ctx.prec = 200
            return value + Decimal(delta).scaleb(value.as_tuple().exponent)  # type: ignore[arg-type]
    if isinstance(value, str):
        return _digit_changed(value) or "x" + value
    return value


def allowed(prov: Provenance, body: Any, path: Concrete, roles: list[Role]) -> set[tuple[int, Any]]:
    """(record index, target pattern) the change of the raw value at `path` may reach."""
    items = raw_items(prov, body)
    k = prov.per_item
    out: set[tuple[int, Any]] = set()
    for i, (item_path, _) in enumerate(items):
        if path[: len(item_path)] != item_path:
            continue
        indices = [p for p in path[len(item_path) :] if isinstance(p, int)]
        for n, _ in roles:
            m = prov.maps[n]
            target = tokens(m.target)
            if target[0] == "result":
                continue
            idx = iter(indices)
            # A `key=value` step may be any element (conservation checks which one).
            concrete = tuple(
                next(idx, "*") if t == "*" else ("*" if "=" in t else t) for t in target
            )
            chosen = range(k) if m.record is None else [m.record]
            for r in chosen:
                out.add((i * k + r, concrete))
                if m.transform == "tax id":
                    out.add((i * k + r, (*concrete[:-1], "tax_id_valid")))
    return out


def changed_leaves(old: Sequence[Any], new: Sequence[Any]) -> list[tuple[int, Concrete]]:
    """(record index, field path) of every field that differs between two record lists."""
    out = []
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        mine, theirs = dict(leaves(a)), dict(leaves(b))
        for key in set(mine) | set(theirs):
            left, right = mine.get(key, MISSING), theirs.get(key, MISSING)
            if type(left) is not type(right) or left != right or _digits(left) != _digits(right):
                out.append((i, key))
    return out


def _digits(value: Any) -> Any:
    return value.as_tuple() if isinstance(value, Decimal) else None


def _reaches(allowed_set: set[tuple[int, Any]], record: int, path: Concrete) -> bool:
    return any(
        r == record
        and len(path) >= len(t)
        and all(a == "*" or a == b for a, b in zip(t, path, strict=False))
        for r, t in allowed_set
    )


# -- the suite ----------------------------------------------------------------------------------


def declared_suite(
    connector: type[Connector],
    prov: Provenance,
    bodies: st.SearchStrategy[Any],
    examples: Sequence[Golden],
    make: Callable[[], Connector],
    conf: settings,
) -> type:
    """A pytest class with the declaration-driven properties of one capability."""
    cap = prov.capability

    def parse(body: Any) -> Any:
        return make().parse(cap, json_text(body))

    def conserve(name: str, body: Any, result: Any, only: set[int] | None = None) -> None:
        problem = check_body(prov, body, result, only)
        if problem:
            raise _fail(name, problem, body)

    def perturb(name: str, body: Any, path: Concrete, new: Any, roles: list[Role]) -> None:
        """Change one raw value; only its declared targets may change, and as declared."""
        before = parse(body)
        changed = replace(body, path, new)
        try:
            after = parse(changed)
        except CaudalError:
            event("perturbed value refused by the raw model")
            return
        conserve(name, changed, after)
        may = allowed(prov, body, path, roles)
        for record, leaf in changed_leaves(before.items, after.items):
            if not _reaches(may, record, leaf):
                what = ", ".join(sorted(prov.maps[n].target for n, _ in roles)) or "nothing"
                where = spell_concrete(leaf).replace("$", f"record #{record}", 1)
                raise _fail(
                    name,
                    f"changing raw {spell_concrete(path)} ({json_text(_at(body, path))} -> "
                    f"{json_text(new)}) changed {where}; it is declared to reach {what}",
                    body,
                )

    class Declared:
        def test_declarations_cover_the_raw_model(self) -> None:
            problems = declaration_problems(prov)
            assert not problems, f"{connector.name} {cap}: " + "; ".join(problems)

        def test_golden_examples(self) -> None:
            assert examples, (
                f"{connector.name} {cap}: no golden example (a provider-documentation body "
                "and the records it gives, written by hand)"
            )
            for n, example in enumerate(examples):
                result = make().parse(cap, example.body)
                found = differences(example.records, result.items)
                if example.notes is not None and tuple(example.notes) != result.notes:
                    found.append(f"notes {result.notes!r}, expected {tuple(example.notes)!r}")
                assert not found, (
                    f"golden example {n} ({example.source}) of {connector.name} {cap}: "
                    + "; ".join(found)
                )

        @conf
        @given(body=bodies)
        def test_conservation(self, body: Any) -> None:
            conserve("conservation", body, parse(body))

        @conf
        @given(body=bodies, data=st.data())
        def test_perturbation(self, body: Any, data: st.DataObject) -> None:
            found = candidates(prov, body)
            if not found:
                event("no raw value to change")
                return
            path, roles = data.draw(st.sampled_from(found), label="raw value changed")
            new = other_value(prov, _at(body, path), roles, data.draw)
            perturb("perturbation", body, path, new, roles)

    props = vars(Declared)
    tests: dict[str, Any] = {k: v for k, v in props.items() if k.startswith("test_")}
    minor = [n for n, m in enumerate(prov.maps) if m.minor_units]
    if minor:
        tests["test_scale"] = _scale_test(prov, minor, bodies, parse, conserve, conf)
    switches = [n for n, m in enumerate(prov.maps) if m.sign or m.transform == "kind"]
    if switches:
        tests["test_sign_and_kind"] = _switch_test(prov, switches, bodies, perturb, conf)
    nullable = [n for n, m in enumerate(prov.maps) if m.optional]
    if nullable:
        tests["test_nulls"] = _null_test(prov, nullable, bodies, parse, conserve, conf)
    return type(f"Declared_{connector.__name__}_{cap}", (), tests)


def _at(body: Any, path: Concrete) -> Any:
    for part in path:
        body = body[part]
    return body


def _scale_test(
    prov: Provenance,
    minor: list[int],
    bodies: st.SearchStrategy[Any],
    parse: Callable[[Any], Any],
    conserve: Callable[..., None],
    conf: settings,
) -> Callable[..., None]:
    currencies = representative_currencies()

    @conf
    @given(body=bodies)
    def test_scale(self: Any, body: Any) -> None:
        items = raw_items(prov, body)
        for n in minor:
            m = prov.maps[n]
            if not items or m.currency_from is None:
                conserve("scale", body, parse(body), {n})
                continue
            pattern = prov.absolute(m.currency_from)
            spots = [p for p, v in occurrences(body, pattern) if v not in (None, MISSING)]
            for code in currencies:
                changed = body
                for spot in spots:
                    changed = replace(changed, spot, code)
                try:
                    result = parse(changed)
                except CaudalError:
                    event(f"currency {code} refused by the raw model")
                    continue
                conserve(f"scale ({code}, exponent {minor_units(code)})", changed, result, {n})

    return test_scale


def _switch_test(
    prov: Provenance,
    switches: list[int],
    bodies: st.SearchStrategy[Any],
    perturb: Callable[..., None],
    conf: settings,
) -> Callable[..., None]:
    @conf
    @given(body=bodies)
    def test_sign_and_kind(self: Any, body: Any) -> None:
        for n in switches:
            m = prov.maps[n]
            field = m.sign.field if m.sign else m.source
            assert field is not None
            for path, value in occurrences(body, prov.absolute(field))[:3]:
                if value in (None, MISSING):
                    continue
                roles = roles_of(prov, path)
                if m.sign:
                    flipped = m.sign.positive if value == m.sign.negative else m.sign.negative
                    perturb("sign", body, path, flipped, roles)
                    continue
                for word in [*m.table, UNKNOWN_WORD]:
                    if word != value:
                        perturb("kind", body, path, word, roles)

    return test_sign_and_kind


def _null_test(
    prov: Provenance,
    nullable: list[int],
    bodies: st.SearchStrategy[Any],
    parse: Callable[[Any], Any],
    conserve: Callable[..., None],
    conf: settings,
) -> Callable[..., None]:
    @conf
    @given(body=bodies)
    def test_nulls(self: Any, body: Any) -> None:
        for n in nullable:
            m = prov.maps[n]
            assert m.optional is not None
            for path, value in occurrences(body, prov.absolute(m.optional))[:3]:
                if value in (None, MISSING):
                    continue
                for blank in (None, MISSING):
                    changed = replace(body, path, blank)
                    state = "null" if blank is None else "absent"
                    try:
                        result = parse(changed)
                    except Exception as exc:  # a crash or a refusal: both break the declaration
                        raise _fail(
                            "nulls",
                            f"raw {spell_concrete(path)} {state} should give {m.target} = "
                            f"{m.when_null!r}; the mapping raised {type(exc).__name__}: {exc}",
                            changed,
                        ) from None
                    conserve(f"nulls ({spell_concrete(path)} {state})", changed, result)

    return test_nulls


def suite_settings(max_examples: int) -> settings:
    """The properties' hypothesis settings: a larger profile (`make fuzz`) raises the count."""
    return settings(
        max_examples=max(max_examples, settings().max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


Examples = Mapping[str, Sequence[Golden]]
