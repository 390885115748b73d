"""Hostile JSON bodies: the shapes that make a naive parser spend memory and time out of all
proportion to the body, built to a size, and a hypothesis strategy of small hostile documents.

    from caudal.testing import hostile
    body = hostile.body("empty_objects", 1 << 20)              # `[{},{},…]`, about 1 MiB
    body = hostile.framed(b'{"Data": {"Items": @@}}', body)   # the same, where a list is read

The fixed shapes are what was measured to hurt (pydantic collecting one error per item: a
0.5 MB `[0,0,…]` cost 360 MB; `[{},…]` 4.6 GB at 1.4 MB), plus the densest valid JSON for a
decoder (a Decimal object per four bytes), huge exponents, deep nesting, long strings and many
keys. A connector's tests feed each to `conn.parse` at a few sizes and check the typed error and
the peak memory per byte of body (caudal's own tests: `tests/hostile/`).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "PLACEHOLDER",
    "SHAPES",
    "body",
    "framed",
    "hostile_json",
    "repeated",
    "unbounded_lists",
]

PLACEHOLDER = b"@@"
"""Where `framed` puts the inner body."""


def repeated(item: bytes, size: int, *, last: bytes | None = None) -> bytes:
    """A JSON array of `item` repeated to about `size` bytes, then `last` if given.

    Built with one multiplication and one join, so building it costs about twice the body.
    """
    count = max(1, (size - 2 - len(last or b"")) // (len(item) + 1))
    tail = b"," + last if last is not None else b""
    return b"".join((b"[", (item + b",") * (count - 1), item, tail, b"]"))


def _deep(size: int) -> bytes:
    depth = max(1, size // 2)
    return b"[" * depth + b"]" * depth


def _long_string(size: int) -> bytes:
    return b'["' + b"a" * max(0, size - 4) + b'"]'


def _many_keys(size: int) -> bytes:
    count = max(1, size // 12)
    keys = b",".join(b'"k%d":0' % i for i in range(count))
    return b"{" + keys + b"}"


def _distinct_strings(size: int) -> bytes:
    count = max(1, size // 11)
    return b"[" + b",".join(b'"%08d"' % i for i in range(count)) + b"]"


def _big_integers(size: int) -> bytes:
    # 4300 digits is CPython's limit for int from text: just under it, each costs a bignum.
    return repeated(b"9" * 4299, size)


SHAPES: dict[str, Callable[[int], bytes]] = {
    "zeros": lambda size: repeated(b"0", size),
    "empty_objects": lambda size: repeated(b"{}", size),
    "empty_arrays": lambda size: repeated(b"[]", size),
    "decimals": lambda size: repeated(b"0.1", size),
    "huge_exponents": lambda size: repeated(b"1e999999", size),
    "tiny_exponents": lambda size: repeated(b"-1e-999999", size),
    "big_integers": _big_integers,
    "nulls": lambda size: repeated(b"null", size),
    "distinct_strings": _distinct_strings,
    "long_string": _long_string,
    "deep_nesting": _deep,
    "many_keys": _many_keys,
    "objects_of_arrays": lambda size: repeated(b'{"a":[0,0,0,0,0,0,0,0]}', size),
}
"""Each shape, built to about `size` bytes of JSON text."""


def body(shape: str, size: int) -> bytes:
    """The JSON text of `shape` (a key of `SHAPES`), about `size` bytes."""
    return SHAPES[shape](size)


def framed(frame: bytes, inner: bytes) -> bytes:
    """`frame` with `PLACEHOLDER` replaced by `inner`: a hostile value where a list is read."""
    before, found, after = frame.partition(PLACEHOLDER)
    if not found:
        raise ValueError(f"frame has no {PLACEHOLDER!r} placeholder")
    return b"".join((before, inner, after))


def hostile_json(max_leaves: int = 40) -> object:
    """A hypothesis strategy of small JSON texts (bytes) made of hostile parts: huge and tiny
    exponents, big integers, `-0`, lone surrogate escapes, empty containers, deep lists and
    strings that are themselves JSON documents. Every one must give a typed caudal error (or
    a Result): never a crash, never a half-read body."""
    from hypothesis import strategies as st

    atoms = st.sampled_from(
        [
            b"0",
            b"-0",
            b"0.1",
            b"1e999999",
            b"-1e-999999",
            b"9" * 40,
            b"1E+400",
            b"null",
            b"true",
            b'""',
            b'"\\ud800"',
            b'"[]"',
            b'"{\\"OperationId\\": \\"x\\", \\"Status\\": \\"OK\\"}"',
            b"{}",
            b"[]",
            b"[" * 300 + b"]" * 300,
        ]
    )
    keys = st.sampled_from(
        [b"Data", b"Status", b"OperationId", b"Amount", b"available", b"id", b"\\ud800", b""]
    )

    def objects(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
        pairs = st.lists(st.tuples(keys, children), max_size=4)
        return pairs.map(lambda kv: b"{" + b",".join(b'"%s":%s' % p for p in kv) + b"}")

    def arrays(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
        return st.lists(children, max_size=4).map(lambda items: b"[" + b",".join(items) + b"]")

    return st.recursive(
        atoms,
        lambda children: st.one_of(objects(children), arrays(children)),
        max_leaves=max_leaves,
    )


def unbounded_lists(adapter: object) -> list[str]:
    """Paths of the lists, tuples and sets inside models of `adapter`'s schema that are not
    fail-fast (`Annotated[list[X], pydantic.FailFast()]`): each collects one error per bad item.

    `caudal.mapping.validate` makes the adapter's own iterables fail-fast, but pydantic runs a
    nested model with the validator built for its class, which only the model can change.
    """
    from pydantic import TypeAdapter

    schema = adapter.core_schema if isinstance(adapter, TypeAdapter) else adapter
    found: list[str] = []

    def walk(node: object, path: str, in_model: bool) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if (
                in_model
                and kind in ("list", "tuple", "set", "frozenset")
                and not node.get("fail_fast")
            ):
                found.append(path or "$")
            inside = in_model or kind == "model"
            for key, value in node.items():
                walk(value, f"{path}/{key}", inside)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}", in_model)

    walk(schema, "", False)
    return found
