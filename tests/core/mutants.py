"""A catalogue of wrong-figure bugs, applied to any connector's real mapping.

Each mutant wraps the connector's real reader (an extension hook, the plugin API's own way to
wrap an operation) and alters the records it returns the way that bug would: money through a
float, minor units not divided, a figure scaled, a figure dropped, two targets swapped, the sign
dropped or flipped, a timestamp from the wrong place, a wrong kind, a value from the wrong raw
field, one record of a page swallowed. Where a bug needs to know which field is a figure or a
timestamp it reads the capability's declaration; where it needs another raw field it reads the
body. A mutant that cannot apply to a declaration (no minor units to leave undivided) says so.

`killed(...)` runs the declaration-driven properties of the conformance suite over a mutant and
reports the first that fails, with its message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from caudal import CAPABILITIES, Call, Connector, Money, Operation, Reply, Result, hookimpl
from caudal.mapping import load_json
from caudal.model import minor_units
from caudal.provenance import Map, Provenance, tokens
from caudal.sandbox import Emulator
from caudal.testing import Golden, conformance_suite
from caudal.testing._golden import differences
from caudal.testing._oracle import raw_items
from caudal.testing._paths import leaves, occurrences, replace
from caudal.testing.strategies import json_text

Records = list[Any]
Apply = Callable[[Provenance, Any, Records], Records]


@dataclass(frozen=True)
class Mutant:
    """One wrong-figure bug: its name, what it does, and whether a declaration allows it."""

    name: str
    does: str
    apply: Apply
    applies: Callable[[Provenance], bool] = lambda prov: True


# -- reading the declaration -------------------------------------------------------------------


def _record_maps(prov: Provenance, transform: str | None = None) -> list[Map]:
    return [
        m
        for m in prov.maps
        if tokens(m.target)[0] != "result" and (transform is None or m.transform == transform)
    ]


def _spots(records: Records, m: Map) -> Iterator[tuple[int, tuple[Any, ...], Any]]:
    """(record index, concrete path, value) of every occurrence of a map's target."""
    for i, record in enumerate(records):
        for path, value in occurrences(record, tokens(m.target)):
            if value is not None:
                yield i, path, value


def _change(records: Records, i: int, path: tuple[Any, ...], value: Any) -> None:
    records[i] = replace(records[i], path, value)


def _amounts(prov: Provenance, records: Records, f: Callable[[Money], Money]) -> Records:
    out = list(records)
    for m in _record_maps(prov, "money"):
        for i, path, value in list(_spots(out, m)):
            if isinstance(value, Money):
                _change(out, i, path, f(value))
    return out


def _with(money: Money, amount: Decimal) -> Money:
    return Money.model_construct(amount=amount, currency=money.currency)


# -- the catalogue -------------------------------------------------------------------------------


def through_float(prov: Provenance, body: Any, records: Records) -> Records:
    return _amounts(prov, records, lambda m: _with(m, Decimal(str(float(m.amount)))))


def unscaled(prov: Provenance, body: Any, records: Records) -> Records:
    out = list(records)
    for m in _record_maps(prov, "money"):
        if m.minor_units:
            for i, path, value in list(_spots(out, m)):
                exponent = minor_units(value.currency) or 0
                _change(out, i, path, _with(value, value.amount.scaleb(exponent)))
    return out


def scaled(prov: Provenance, body: Any, records: Records) -> Records:
    first = _record_maps(prov, "money")[:1]
    out = list(records)
    for m in first:
        for i, path, value in list(_spots(out, m)):
            _change(out, i, path, _with(value, value.amount.scaleb(2)))
    return out


def dropped(prov: Provenance, body: Any, records: Records) -> Records:
    """The first figure with a default falls back to it; with none, the first amount is 0."""
    record_type = CAPABILITIES[prov.capability]
    out = list(records)
    for m in _record_maps(prov):
        field = tokens(m.target)[0]
        info = record_type.model_fields[field]
        values = [getattr(r, field) for r in out]
        numeric = any(isinstance(v, Money | Decimal | tuple) for v in values)
        if numeric and not info.is_required():
            default = info.get_default(call_default_factory=True)
            return [r.model_copy(update={field: default}) for r in out]
    return _amounts(prov, out, lambda m: _with(m, Decimal(0)))


def _numeric(value: Any) -> Decimal | None:
    if isinstance(value, Money):
        return value.amount
    return value if isinstance(value, Decimal) else None


def _put(value: Any, number: Decimal) -> Any:
    return _with(value, number) if isinstance(value, Money) else number


def swapped(prov: Provenance, body: Any, records: Records) -> Records:
    """Two declared figures of one raw item's records swap places (strings, if no figures)."""
    k = prov.per_item
    out = list(records)
    for start in range(0, len(out), k):
        group = out[start : start + k]
        spots = [
            (start + i, path, value)
            for m in _record_maps(prov)
            for i, path, value in _spots(group, m)
        ]
        numbers = [s for s in spots if _numeric(s[2]) is not None]
        texts = [s for s in spots if isinstance(s[2], str) and type(s[2]) is str]
        pair = _distinct_pair(numbers) or _distinct_pair(texts)
        if pair is None:
            continue
        (i, p, a), (j, q, b) = pair
        if _numeric(a) is not None:
            a, b = _put(a, _numeric(b) or Decimal(0)), _put(b, _numeric(a) or Decimal(0))
        else:
            a, b = b, a
        _change(out, i, p, a)
        _change(out, j, q, b)
    return out


def _distinct_pair(spots: list[Any]) -> tuple[Any, Any] | None:
    for n, first in enumerate(spots):
        for second in spots[n + 1 :]:
            if (first[0], first[1]) != (second[0], second[1]):
                return first, second
    return None


def sign_dropped(prov: Provenance, body: Any, records: Records) -> Records:
    return _amounts(prov, records, lambda m: _with(m, m.amount.copy_abs()))


def sign_flipped(prov: Provenance, body: Any, records: Records) -> Records:
    return _amounts(
        prov, records, lambda m: _with(m, m.amount.copy_negate() if m.amount else m.amount)
    )


def _moment(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        return None


def wrong_timestamp(prov: Provenance, body: Any, records: Records) -> Records:
    """A timestamp from another raw date-time of the item; else the offset lost (UTC)."""
    items = raw_items(prov, body)
    k = prov.per_item
    out = list(records)
    for m in _record_maps(prov, "as is"):
        for i, path, value in list(_spots(out, m)):
            if not isinstance(value, date):
                continue
            item = items[i // k][1] if i // k < len(items) else {}
            others = [
                _moment(v)
                for p, v in leaves(item)
                if _moment(v) is not None and (m.source is None or p != tokens(m.source))
            ]
            other = next((o for o in others if o != value), None)
            if other is None and isinstance(value, datetime):
                shifted = UTC if value.utcoffset() else timezone(timedelta(hours=1))
                other = value.astimezone(shifted)
            elif other is None:
                other = value + timedelta(days=1)
            _change(out, i, path, other)
    return out


def wrong_kind(prov: Provenance, body: Any, records: Records) -> Records:
    out = list(records)
    for m in prov.maps:
        if m.transform in ("kind", "constant") and tokens(m.target)[0] != "result":
            for i, path, value in list(_spots(out, m)):
                if isinstance(value, Enum):
                    members = list(type(value))
                    _change(out, i, path, members[(members.index(value) + 1) % len(members)])
    return out


def wrong_source(prov: Provenance, body: Any, records: Records) -> Records:
    """One declared value read from another raw field of the item (a figure from a figure)."""
    items = raw_items(prov, body)
    k = prov.per_item
    out = list(records)
    for m in _record_maps(prov, "money") + _record_maps(prov, "as is"):
        mine = tokens(m.source or "")
        changed = False
        for i, path, value in list(_spots(out, m)):
            if i // k >= len(items):
                continue
            raw = [(p, v) for p, v in leaves(items[i // k][1]) if p[: len(mine)] != mine]
            if isinstance(value, Money):
                numbers = [v for _, v in raw if isinstance(v, int | Decimal) and v is not True]
                numbers = [v for v in numbers if not isinstance(v, bool)]
                if numbers:
                    _change(out, i, path, _with(value, Decimal(numbers[0])))
                    changed = True
            elif type(value) is str:
                texts = [v for _, v in raw if isinstance(v, str)]
                if texts:
                    _change(out, i, path, texts[0])
                    changed = True
        if changed:
            return out
    return out


def swallowed(prov: Provenance, body: Any, records: Records) -> Records:
    return records[:-1]


def _has_minor(prov: Provenance) -> bool:
    return any(m.minor_units for m in prov.maps)


def _has_kind(prov: Provenance) -> bool:
    return any(
        m.transform == "kind" or (m.transform == "constant" and isinstance(m.value, Enum))
        for m in prov.maps
    )


CATALOGUE = (
    Mutant("float", "every amount goes through a float", through_float),
    Mutant("unscaled minor units", "minor units not divided", unscaled, _has_minor),
    Mutant("scaled by 10^2", "the first declared amount multiplied by 100", scaled),
    Mutant("dropped figure", "a figure left at its default (or zero)", dropped),
    Mutant("two targets swapped", "two figures of one raw item swap places", swapped),
    Mutant("sign dropped", "every amount made positive", sign_dropped),
    Mutant("sign flipped", "every amount negated", sign_flipped),
    Mutant("wrong timestamp", "a timestamp from another raw field, or in UTC", wrong_timestamp),
    Mutant("wrong kind", "every kind moved to the next one", wrong_kind, _has_kind),
    Mutant("wrong source field", "a value read from another raw field of the item", wrong_source),
    Mutant("record swallowed", "the last record of the page is lost", swallowed),
)


# -- applying a mutant to a connector -------------------------------------------------------------


def mutated(connector: type[Connector], prov: Provenance, mutant: Mutant) -> type[Connector]:
    """A subclass of `connector` whose capability's reader returns what the bug would."""

    def wrapper(self: Any, connector: Connector) -> Iterator[None]:
        operation: Operation[Any] = yield

        def bugged(inner: Any, reply: Reply, call: Call[Any]) -> Any:
            outcome = inner(reply, call)
            if not isinstance(outcome, Result):
                return outcome
            body = load_json(reply.body)
            items = mutant.apply(prov, body, list(outcome.items))
            return outcome.model_copy(update={"items": tuple(items)})

        return operation.wrap_read(bugged)  # type: ignore[return-value]

    wrapper.__name__ = prov.capability
    extension = type("Bug", (), {prov.capability: hookimpl(wrapper=True)(wrapper)})()

    def __init__(self: Connector, *args: Any, **kwargs: Any) -> None:
        connector.__init__(self, *args, extensions=[extension], **kwargs)

    return type(f"{connector.__name__}_{mutant.name}", (connector,), {"__init__": __init__})


PROPERTIES = ("conservation", "perturbation", "scale", "sign_and_kind", "nulls")
"""The declaration-driven properties, in the order they are tried (golden examples aside)."""

MUTANT_RUNS: dict[str, Any] = {
    "max_examples": 100,
    "derandomize": True,
    "database": None,
    "phases": (Phase.explicit, Phase.reuse, Phase.generate),
}
"""Reproducible runs, so the committed table is what the test prints; no shrinking (the first
failing body is reported as found: shrinking 55 runs would cost minutes); the count pinned, so
`make fuzz` does not run every surviving property of 55 mutants 5000 times."""


@dataclass(frozen=True)
class Verdict:
    mutant: str
    prop: str | None
    message: str
    golden: bool | None
    also: tuple[str, ...] = ()
    """Every other declaration-driven property that failed too."""
    equivalent: bool = False
    """The mutant changed no record of any body tried: no test could tell it apart."""


def killed(
    connector: type[Connector],
    prov: Provenance,
    mutant: Mutant,
    bodies: st.SearchStrategy[Any],
    examples: list[Golden],
    offline: dict[str, Any],
    max_examples: int,
) -> Verdict:
    """The first declaration-driven property that fails on the mutant, with its message."""
    bugged = mutated(connector, prov, mutant)
    with settings_profile(**MUTANT_RUNS):
        suite = conformance_suite(
            bugged,
            Emulator(name="none", routes=[], settings={}),
            bodies={prov.capability: bodies},
            examples={prov.capability: examples},
            settings=offline,
            max_examples=max_examples,
            provenance=[prov],
        )
    instance = suite()
    golden = _fails(instance, f"test_{prov.capability}_golden_examples")
    failed: dict[str, str] = {}
    for prop in PROPERTIES:
        name = f"test_{prov.capability}_{prop}"
        if hasattr(instance, name):
            message = _fails(instance, name)
            if message is not None:
                failed[prop] = message
    if failed:
        first, *others = failed
        return Verdict(mutant.name, first, failed[first], golden is not None, tuple(others))
    same = not changes_output(connector, bugged, prov.capability, bodies, offline)
    message = "equivalent: it changed no record of any body tried" if same else "survived"
    return Verdict(mutant.name, None, message, golden is not None, equivalent=same)


def changes_output(
    connector: type[Connector],
    bugged: type[Connector],
    capability: str,
    bodies: st.SearchStrategy[Any],
    offline: dict[str, Any],
) -> bool:
    """Whether the mutant gives other records than the real mapping for some generated body."""
    real, bug = connector(**offline), bugged(**offline)

    @settings(max_examples=300, derandomize=True, database=None, phases=[Phase.generate])
    @given(body=bodies)
    def same(body: Any) -> None:
        text = json_text(body)
        assert not differences(
            real.parse(capability, text).items, bug.parse(capability, text).items
        )

    try:
        same()
    except AssertionError:
        return True
    return False


def _fails(instance: Any, name: str) -> str | None:
    try:
        getattr(instance, name)()
    except AssertionError as exc:
        return str(exc)
    return None


class settings_profile:
    """Build hypothesis settings objects while `extra` is the default (restored after)."""

    def __init__(self, **extra: Any) -> None:
        self.extra = extra
        self.saved: settings | None = None

    def __enter__(self) -> None:
        self.saved = settings.default
        settings.register_profile("caudal-mutants", parent=settings.default, **self.extra)
        settings.load_profile("caudal-mutants")

    def __exit__(self, *exc: object) -> None:
        assert self.saved is not None
        settings.register_profile("caudal-restored", parent=self.saved)
        settings.load_profile("caudal-restored")


def first_line(message: str, width: int = 160) -> str:
    """The message's first line, shortened for a table cell."""
    line = message.split("\n", 1)[0].replace("|", "\\|")
    return line if len(line) <= width else line[: width - 1] + "…"


def table(verdicts: list[Verdict], first: str = "mutant") -> str:
    """The Markdown table of mutants, the property that killed each and its message."""
    rows = [
        f"| {first} | property that failed | message | other properties that failed "
        "| golden example fails too |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        golden = "yes" if v.golden else "no"
        prop = v.prop or ("equivalent" if v.equivalent else "**survived**")
        also = ", ".join(v.also)
        rows.append(f"| {v.mutant} | {prop} | {first_line(v.message)} | {also} | {golden} |")
    return "\n".join(rows)


def write_section(doc: Path, name: str, text: str) -> None:
    """Replace the doc's generated section `name` (between its markers) with `text`."""
    start, end = f"<!-- mutants:{name} -->", f"<!-- /mutants:{name} -->"
    current = doc.read_text(encoding="utf-8")
    before, rest = current.split(start, 1)
    _, after = rest.split(end, 1)
    doc.write_text(f"{before}{start}\n\n{text}\n\n{end}{after}", encoding="utf-8")
