"""`load_json`: the fast decoder reads every text exactly as the exact reference decoder does."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from caudal.mapping import load_json


def _int(text: str) -> int | Decimal:
    return Decimal(text) if text == "-0" else int(text)


def reference(text: str) -> Any:
    """What `load_json` must return: the standard library, every number read from its text."""
    return json.loads(text, parse_float=Decimal, parse_int=_int)


def same(a: Any, b: Any) -> bool:
    """Equal *and* of the same types, down to each Decimal's digits, exponent and sign."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


NUMBER_TEXT = st.from_regex(
    r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)
KEYS = st.sampled_from(["Amount", "id", "-0", "a:-0", ",-0", "[-0]", "é", "\\u0000"])
STRINGS = st.one_of(st.text(max_size=8), KEYS)


def _texts() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        NUMBER_TEXT,
        st.sampled_from(["true", "false", "null", "-0", "-0.0", "-0e1", "0"]),
        STRINGS.map(json.dumps),
    )

    def containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        space = st.sampled_from(["", " ", "\n\t "])
        arrays = st.tuples(st.lists(inner, max_size=4), space).map(
            lambda t: "[" + (t[1] + "," + t[1]).join(t[0]) + "]"
        )
        objects = st.tuples(st.lists(st.tuples(STRINGS, inner), max_size=4), space).map(
            lambda t: (
                "{" + ",".join(f"{t[1]}{json.dumps(k)}{t[1]}:{t[1]}{v}" for k, v in t[0]) + "}"
            )
        )
        return st.one_of(arrays, objects)

    return st.recursive(leaf, containers, max_leaves=12)


@settings(max_examples=1000)
@given(_texts())
@example('{"Amount": -0}')
@example("[ -0 ,-0.00, 1.10, 1E+5, 123456789012345678901234567890]")
@example('{"EmployerId": "88.686.140-0", "x": 1}')
def test_load_json_reads_every_text_as_the_exact_reference_does(text: str) -> None:
    expected = reference(text)
    assert same(load_json(text), expected)
    assert same(load_json(text.encode()), expected)


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", "[-Infinity]"])
def test_non_finite_constants_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number JSON allows"):
        load_json(text)


@pytest.mark.parametrize("text", ["[1,]", "[1] x", "", "[00]", '{"a":1', "[.5]", "[01]"])
def test_bad_json_gets_the_standard_librarys_error(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        load_json(text)


def test_bodies_jiter_refuses_are_read_by_the_standard_library() -> None:
    deep = "[" * 500 + "1.10" + "]" * 500  # deeper than jiter's limit of 200
    value = load_json(deep)
    for _ in range(500):
        value = value[0]
    assert value.as_tuple() == Decimal("1.10").as_tuple()
    assert same(load_json('["é", 2.50]'.encode("utf-16")), ["é", Decimal("2.50")])
