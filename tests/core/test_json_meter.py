"""The meter in front of the decoder (`caudal._json`): it never charges less than what the
decoder builds, it refuses the dense shapes, and it refuses no provider body.

The oracle for "what the decoder builds" is independent of the meter: the decoded tree itself,
walked object by object and sized with `sys.getsizeof`.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any
from unittest import mock

import jiter
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from caudal import MappingError, _json, registry
from caudal._json import (
    MAX_DECODED_RATIO,
    METERED_FROM,
    DenseJSON,
    decoded_cost,
    load_json,
    quick_cost,
)
from caudal.testing import hostile

from .test_load_json import NUMBER_TEXT, _texts, reference, same


def tree_size(value: Any) -> int:
    """Bytes of every distinct object in a decoded tree, shared singletons and small ints aside."""
    seen: set[int] = set()
    total, stack = 0, [value]
    while stack:
        node = stack.pop()
        shared = node is None or node is True or node is False
        if shared or id(node) in seen or (type(node) is int and -5 <= node <= 256):
            continue
        seen.add(id(node))
        total += sys.getsizeof(node)
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total


def test_the_object_sizes_the_meter_charges_are_upper_bounds() -> None:
    for k in range(400):
        assert sys.getsizeof({f"k{i}": 0 for i in range(k)}) <= 144 + 40 * k, k
    for text in ["", "a", "CLP", "x" * 500]:
        assert sys.getsizeof(text) <= 49 + len(json.dumps(text))
    for text in ["é", "Razón Social", "€", "😀", "a" * 300 + "😀", "\u0100" * 20]:
        encoded = json.dumps(text, ensure_ascii=False).encode()
        assert sys.getsizeof(text) <= 80 + 4 * len(encoded), text
        assert sys.getsizeof(text) <= 80 + 4 * len(json.dumps(text)), text  # \u escapes
    for number in ["0.1", "1e999999", "-1e-999999", "1" * 80 + ".5", "9" * 1000 + "e5"]:
        assert sys.getsizeof(Decimal(number)) <= 104 + len(number), number
    for number in ["257", "-1", "99999", "9" * 19, "9" * 4299]:
        assert sys.getsizeof(int(number)) <= 32 + len(number) // 2, number
    assert sys.getsizeof([0] * 100) <= 72 + 24 * 100


@settings(max_examples=600)
@given(_texts())
@example('{"a": [0.1, 0.1, 0.1], "b": [{}, [], {}], "c": ["x", "é", "😀"]}')
@example('[[[[0.5]]], [["a", "b"], [1, -1, 256, 257, -0]], {"é": {"😀": null}}]')
@example('{"a": 1, "a": 2, "b": {"a": [true, false, null, 1e5, 123456789012345678901]}}')
@example("[257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270]")
def test_the_meter_never_charges_less_than_the_decoder_builds(text: str) -> None:
    data = text.encode()
    try:
        tree = jiter.from_json(data, allow_inf_nan=False, float_mode="decimal")
    except ValueError:
        return  # a text jiter refuses is read by the standard library, under the same meter
    assert decoded_cost(data) >= tree_size(tree)


@pytest.mark.parametrize(("distinct", "length"), [(20, 40), (20, 70), (2000, 40), (20_000, 40)])
def test_keys_are_charged_again_once_the_decoders_cache_may_not_keep_them(
    distinct: int, length: int
) -> None:
    members = ",".join(f'"{i:0{length}d}":null' for i in range(distinct))  # null: no slack
    data = ("[" + ",".join(["{" + members + "}"] * 3) + "]").encode()
    jiter.cache_clear()
    size = tree_size(jiter.from_json(data))
    assert decoded_cost(data) >= size
    assert (quick_cost(data) or size) >= size


@settings(max_examples=200, deadline=None)
@given(_texts())
@example('{"Amount": -0, "x": [1.10, "é"]}')
def test_a_metered_body_decodes_exactly_as_a_small_one(text: str) -> None:
    padded = " " * (METERED_FROM + 1) + text  # past the size that is metered; costs nothing
    assert same(load_json(padded.encode()), reference(text))


@pytest.mark.parametrize("shape", ["decimals", "empty_objects", "empty_arrays", "zeros"])
def test_dense_bodies_are_refused_before_decoding(shape: str) -> None:
    body = hostile.body(shape, 4 * METERED_FROM)
    with pytest.raises(DenseJSON, match=f"more than {MAX_DECODED_RATIO} bytes of objects"):
        load_json(body)


def test_the_same_dense_body_under_the_metered_size_is_decoded() -> None:
    body = hostile.body("decimals", METERED_FROM)
    assert len(load_json(body)) > 30_000  # its worst case fits the constant


def test_a_connector_reports_a_dense_body_as_a_mapping_error() -> None:
    body = b'{"OperationId": "x", "Status": "OK", "Data": {"Balance": %s}}' % hostile.body(
        "empty_objects", 4 * METERED_FROM
    )
    with pytest.raises(MappingError, match="would decode to more than") as info:
        registry.get("bancosecurity.cl").parse("balance", body)
    assert info.value.connector == "bancosecurity.cl"
    assert info.value.capability == "balance"


def _transactions_with_wide_text(count: int) -> bytes:
    """Belvo transactions whose free text carries accents, a euro sign and emoji: every string
    of the body is then charged at four bytes per byte, the meter's worst case for text."""
    from caudal_belvo.emulator import json_text
    from caudal_belvo.emulator_ofda import seeded_ofda_accounts, transaction_at

    accounts = seeded_ofda_accounts("link-wide")
    items = []
    for i in range(count):
        raw = transaction_at("link-wide", i, accounts).model_dump()
        raw["description"] = f"Pão de Açúcar “PIX” 😀 nº {i} — 12,50 €"
        items.append(json_text(raw))
    return ("[" + ",".join(items) + "]").encode()


def test_provider_bodies_with_any_text_are_not_refused() -> None:
    body = _transactions_with_wide_text(600)
    assert len(body) > 2 * METERED_FROM
    assert decoded_cost(body) <= MAX_DECODED_RATIO * len(body)
    result = registry.get("belvo.br").parse("transactions", body)
    assert len(result.items) == 600
    assert {t.description for t in result.items[:1]} == {"Pão de Açúcar “PIX” 😀 nº 0 — 12,50 €"}


# -- the quick bound: counts over a text split at its quotes ------------------------------------

# Strings without quotes or control characters, escapes other than `\"` among them (the texts
# the quick bound reads), full of what the structure is made of: a count that strays into a
# string is caught here.
_PLAIN = st.one_of(
    st.text(
        st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")), max_size=8
    ),
    st.sampled_from(
        [",", ":", "{}", "[]", "[", "}", "true", "e", "E", ".", "-0", " : ", "é", "😀"]
    ),
    st.sampled_from([r"\n", r"\u00e9", r"\u20ac", r"\ud83d\ude00", r"a\\b", r"\/", r"\u0041"]),
)


def _plain_texts() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        NUMBER_TEXT,
        st.sampled_from(["true", "false", "null", "0", "7", "-3", "257"]),
        _PLAIN.map(lambda text: f'"{text}"'),
    )

    def containers(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        space = st.sampled_from(["", " ", "\n\t "])
        arrays = st.tuples(st.lists(inner, max_size=5), space).map(
            lambda t: "[" + (t[1] + "," + t[1]).join(t[0]) + "]"
        )
        objects = st.tuples(st.lists(st.tuples(_PLAIN, inner), max_size=5), space).map(
            lambda t: "{" + ",".join(f'{t[1]}"{k}"{t[1]}:{t[1]}{v}' for k, v in t[0]) + "}"
        )
        return st.one_of(arrays, objects)

    return st.recursive(leaf, containers, max_leaves=16)


@settings(max_examples=600)
@given(text=_plain_texts(), window=st.sampled_from([_json._WINDOW, 16, 5]))
@example(text='{"a": [0.1, 0.1, 0.1], "b": [{}, [], {}], "c": ["x", "é", "😀"]}', window=5)
@example(text='[[[[0.5]]], [["a", "b"], [1, -1, 256, 257, -0]], {"é": {"😀": null}}]', window=16)
@example(
    text='{"a": 1, "a": 2, "b": {"a": [true, false, null, 1e5, 123456789012345678901]}}', window=5
)
@example(text='[{"[": "]", "{}": ",", ":": "true"}, ["", ""], [""], {"": ""}, "e", 1E5]', window=5)
@example(text="[257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270]", window=16)
@example(text="[" + ",".join(f"[{n}]" for n in range(300, 340)) + "]", window=5)
@example(text="[" + ",".join(f'"😀😀😀😀😀😀{n:02}"' for n in range(40)) + "]", window=16)
@example(text="[" + ",".join(f'{{"k": "v{n:02}"}}' for n in range(40)) + "]", window=16)
def test_the_quick_bound_never_charges_less_than_the_decoder_builds(text: str, window: int) -> None:
    """Small windows cut every text in many places: the counts must add up across cuts."""
    data = text.encode()
    try:
        tree = jiter.from_json(data, allow_inf_nan=False, float_mode="decimal")
    except ValueError:
        return
    with mock.patch.object(_json, "_WINDOW", window):
        quick = quick_cost(data)
    assert quick is None or quick >= tree_size(tree)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1',  # an object left open
        '["a", "b]',  # a string left open
        "[" + "0.1," * 2000 + "0.1" + ":" * 4000 + "]",  # colons where values should be
        '[1 2, "x" "y"]',
        '{"a" "b": 1}',
        '["a\\"b", 1]',  # a backslash: a quote may be escaped
        "[" * 5000 + "]" * 5000,  # deeper than the standard library reads
    ],
)
def test_the_quick_bound_stands_aside_for_what_it_cannot_read(text: str) -> None:
    assert quick_cost(text.encode()) is None


def test_the_quick_bound_vouches_for_provider_bodies_at_near_the_token_passs_figure() -> None:
    """Otherwise every large body would pay for the token pass again."""
    from tests.hostile.targets import TARGETS

    for target in TARGETS:
        body = hostile.framed(target.frame, hostile.repeated(target.item, 4 * METERED_FROM))
        quick, exact = quick_cost(body), decoded_cost(body)
        assert quick is not None, target
        assert exact <= quick <= exact + len(body), (target, quick / len(body), exact / len(body))
    wide = _transactions_with_wide_text(600)
    assert quick_cost(wide) is not None


@pytest.mark.parametrize("shape", ["decimals", "empty_objects", "empty_arrays", "zeros"])
def test_the_quick_bound_does_not_vouch_for_dense_bodies(shape: str) -> None:
    body = hostile.body(shape, 4 * METERED_FROM)
    quick = quick_cost(body, MAX_DECODED_RATIO * len(body))
    assert quick is None or quick > MAX_DECODED_RATIO * len(body)
