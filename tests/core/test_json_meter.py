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

import jiter
import pytest
from hypothesis import example, given, settings

from caudal import MappingError, registry
from caudal._json import MAX_DECODED_RATIO, METERED_FROM, DenseJSON, decoded_cost, load_json
from caudal.testing import hostile

from .test_load_json import _texts, reference, same


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
    members = ",".join(f'"{i:0{length}d}":0' for i in range(distinct))
    data = ("[" + ",".join(["{" + members + "}"] * 3) + "]").encode()
    jiter.cache_clear()
    assert decoded_cost(data) >= tree_size(jiter.from_json(data))


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
