"""Exact JSON decoding whose memory is bounded by the body, hostile bodies included.

Numbers are read from their text: a number with a fraction or an exponent becomes the
`Decimal` of its text (`1.10` stays `1.10`, 25 digits stay 25 digits), an integer an `int`.

A decoded tree can cost far more than its text: `[0.1,0.1,…]` is a 104-byte Decimal per four
bytes (33 times the body, measured), `[{},{},…]` a 64-byte dict per three. A provider's
records cost one to six times their text. So a body over `METERED_FROM` bytes is first
*metered*, and a body whose tree would pass `MAX_DECODED_RATIO` times its size is refused with
`DenseJSON` before anything is built. Smaller bodies are decoded at once: their worst case
fits in the constant. Both bounds below are upper bounds of what the decoder builds (no string
value shared, a key shared only while the decoder's cache surely keeps it):

- `quick_cost` counts the structure's characters once the text is split at its quotes, at
  C speed, and vouches for most bodies (it stands aside where a quote may be escaped);
- `decoded_cost`, one pass of a regular expression over every token, decides the rest and
  every refusal; it stops where the budget runs out, so a hostile body is refused after
  reading a fraction of it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, NoReturn

import jiter

__all__ = [
    "MAX_DECODED_RATIO",
    "METERED_FROM",
    "DenseJSON",
    "decoded_cost",
    "load_json",
    "quick_cost",
]

MAX_DECODED_RATIO = 9
"""Most bytes of Python objects a metered body may decode to, per byte of body."""

METERED_FROM = 128 * 1024
"""Bodies this size or smaller are not metered: 33 times this is a constant (4.2 MiB)."""

_JSON_SPACE = b" \t\n\r"


class DenseJSON(ValueError):
    """A body whose decoded JSON would cost more than `MAX_DECODED_RATIO` times its size."""


# -- metering ---------------------------------------------------------------------------------

_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_SMALL = rb"(?:-?[0-9][-+0-9.eE]*|true|false|null|\{\s*\}|\[\s*\])"
_TOKEN = re.compile(
    rb"[\s,]*(?:(?P<key>" + _STRING + rb")\s*:\s*)?"
    rb"(?:(?(key)(?!)|(?:(?P<run>" + _SMALL + rb"(?:\s*,\s*" + _SMALL + rb"){1,1023})"
    rb"|(?P<strings>" + _STRING + rb"(?:\s*,\s*" + _STRING + rb"){1,1023}(?!\s*:))"
    rb"|(?P<opens>\[(?:\s*\[){1,1023})))"
    rb"|(?P<str>" + _STRING + rb")"
    rb"|(?P<dec>-?[0-9]+(?:\.[0-9]*)?[eE][-+]?[0-9]*|-?[0-9]+\.[0-9]*)"
    rb"|(?P<int>-?[0-9]+)"
    rb"|(?P<obj>\{)|(?P<arr>\[)"
    rb"|(?P<close>[\]}])"
    rb"|(?P<lit>true|false|null)"
    rb"|(?P<other>.))",
    re.DOTALL,
)
"""One value and whatever leads to it: separators, and its key when it is an object member.
A `run` is up to 1024 array elements that hold no string (numbers, literals, `{}`, `[]`),
`strings` up to 1024 strings, `opens` up to 1024 nested arrays, each costed in one step: the
shapes that are dense are read at the speed of plain records.

JSON's tokens do not depend on context once strings are read whole, so this pass and the
decoder agree on every token up to the first byte that is not JSON. There (`other`) the
decoder stops with an error, and so does the meter.
"""
_SINGLE = frozenset({"str", "dec", "int", "obj", "arr", "lit"})


# Upper bounds of CPython 3.11+ objects on 64-bit, as jiter builds them (measured with
# `sys.getsizeof`; a test checks them): an ASCII str is 49 bytes plus one per character, any
# other at most 80 plus four per byte of text; a dict of k entries is at most 144 + 40k; a
# Decimal 104 bytes plus its digits; an int beyond the cached small ones 32 plus half its
# digits. A list element costs its pointer plus the decoder's growing buffer (24 in all).
_ASCII_STR, _WIDE_STR, _WIDE_PER_BYTE = 49, 80, 4
_DICT, _ENTRY, _LIST, _ELEMENT = 144, 40, 72, 24
_DECIMAL, _INT = 104, 32
_SHARED_KEYS, _CACHED_KEY = 1024, 48
"""A key repeated in every record costs nothing after its first time: jiter keeps one str per
key text in its cache, for keys under 64 bytes (the meter shares those of at most 48 bytes,
quotes included). Measured: with 2000 distinct keys none is made again, with 4096 a few are
(the cache's slots collide, at random); so once a body passes `_SHARED_KEYS` distinct keys,
every key is charged each time it appears."""


def decoded_cost(data: bytes, limit: int | None = None) -> int:
    """An upper bound of what decoding `data` builds, in bytes; stops once past `limit`."""
    ascii_body = _narrow(data)
    keys: set[bytes] | None = set()
    total = 0
    for match in _TOKEN.finditer(data):
        kind = match.lastgroup or "other"  # every alternative is a named group
        if kind == "other":
            break  # not JSON from here: the decoder stops at this byte
        total += _value_cost(data, kind, *match.span(kind), ascii_body)
        key = match.group("key")
        if key is not None:
            total += _ENTRY
            if keys is None or len(key) > _CACHED_KEY or key not in keys:
                total += _string_cost(key, 0, len(key), ascii_body)
                if keys is not None:
                    keys.add(key)
                    if len(keys) > _SHARED_KEYS:
                        keys = None  # past what the decoder's cache surely keeps
        elif kind in _SINGLE:  # the runs count their own elements
            total += _ELEMENT
        if limit is not None and total > limit:
            break
    return total


def _value_cost(data: bytes, kind: str, start: int, end: int, ascii_body: bool) -> int:
    if kind == "str":
        return _string_cost(data, start, end, ascii_body)
    if kind == "dec":
        return _DECIMAL + end - start
    if kind == "int":  # -5..256 are shared; two digits without a sign always are
        small = end - start <= 2 and data[start] != 0x2D
        return 0 if small else _INT + (end - start) // 2
    if kind == "obj":
        return _DICT
    if kind == "arr":
        return _LIST
    if kind == "run":
        return _run_cost(data[start:end])
    if kind == "strings":
        return _strings_cost(data[start:end], ascii_body)
    if kind == "opens":
        return (_LIST + _ELEMENT) * data.count(b"[", start, end)
    return 0  # literals are shared, closes cost nothing


def _run_cost(run: bytes) -> int:
    """A run's elements: every one that is not a literal or a container is charged as an int
    that is not shared, plus a Decimal for each `.` and each `e` not in `true`/`false`, plus
    its text."""
    decimals = run.count(b".") + run.count(b"e") + run.count(b"E")
    literals = run.count(b"true") + run.count(b"false")
    decimals -= literals
    dicts, lists = run.count(b"{"), run.count(b"[")
    elements = run.count(b",") + 1
    ints = elements - literals - run.count(b"null") - dicts - lists
    cost = _ELEMENT * elements + _INT * ints + _DECIMAL * decimals + len(run)
    return cost + _DICT * dicts + _LIST * lists


def _strings_cost(run: bytes, ascii_body: bool) -> int:
    """A run of strings: a quote that a backslash escapes counts as one more string."""
    count = run.count(b'"') // 2
    if ascii_body or _narrow(run):
        return (_ELEMENT + _ASCII_STR) * count + len(run)
    return (_ELEMENT + _WIDE_STR) * count + _WIDE_PER_BYTE * len(run)


def _narrow(text: bytes) -> bool:
    """Whether every character of this JSON text is ASCII (a `\\u` escape may not be)."""
    return text.isascii() and b"\\u" not in text


def _string_cost(data: bytes, start: int, end: int, ascii_body: bool) -> int:
    if ascii_body or _narrow(data[start:end]):
        return _ASCII_STR + end - start
    return _WIDE_STR + _WIDE_PER_BYTE * (end - start)


# -- the quick bound ----------------------------------------------------------------------------
#
# The token-by-token pass reads provider records at 15 to 30 MB/s (a Python step per token), a
# multiple of what decoding them costs. Most bodies need less: where no backslash precedes a
# quote, every quote opens or closes a string, so splitting the text at its quotes separates
# strings from structure at C speed, and the structure's own characters count its values
# exactly. That bound vouches for a body or stands aside (None); only the token pass ever
# refuses one.

_WINDOW = 64 * 1024
"""Text split at a time: the pieces of one window are what the quick bound holds at once."""


def _windows(data: bytes) -> Iterator[tuple[int, int]]:
    """Spans of `data` that begin and end outside strings, each cut just before a comma.

    Valid only for a text where no backslash precedes a quote: every quote then opens or
    closes a string, and an even number of them since a point outside strings means outside
    strings again. Before a comma, no token is cut: a key and its colon, or a separator and the
    number after it, stay in one span.
    """
    start, size = 0, len(data)
    while size - start > _WINDOW:
        end = start + _WINDOW
        quotes = data.count(b'"', start, end)
        comma = data.find(b",", end)
        while comma >= 0:
            quotes += data.count(b'"', end, comma)
            end = comma
            if quotes % 2 == 0:
                break
            comma = data.find(b",", comma + 1)
        if comma < 0:
            break
        yield start, end
        start = end
    yield start, size


def quick_cost(data: bytes, limit: int | None = None) -> int | None:
    """An upper bound of what decoding `data` builds, from counts; None when it cannot vouch.

    It stands aside for a text with a backslash before a quote (the quote may be escaped), a
    structure the standard library's decoder refuses once strings are emptied (the counts
    assume valid JSON), and nesting whose lists alone would make the check costly. Past
    `limit` it stops and returns what it has counted.
    """
    if b'\\"' in data:  # a quote may be escaped (or follow an escaped backslash): stand aside
        return None
    tally = _Tally()
    pieces = []
    for start, end in _windows(data):
        structure = tally.add(data[start:end])
        if structure is None:
            return None
        pieces.append(structure)
        if limit is not None and tally.total > limit:
            return tally.total
    # The check below builds every list (of booleans): `[[],[],…]` would cost 21 times its text.
    lists = tally.lists * (_LIST + 8) + 8 * tally.elements
    if lists > 2 * len(data) + _WINDOW or not _well_formed(b"".join(pieces)):
        return None
    return tally.total


class _Tally:
    """The quick bound's running counts, window by window."""

    def __init__(self) -> None:
        # The root is the one value no separator announces: whatever it is, this covers it
        # (and the one number the counts below miss when the root is an object or a list).
        self.total = _DICT
        self.lists = self.elements = 0
        self.keys: set[bytes] | None = set()

    def add(self, window: bytes) -> bytes | None:
        """Count one window; its structure with every string emptied, or None (not JSON)."""
        parts = window.split(b'"')
        if len(parts) % 2 == 0:
            return None  # a string left open
        texts, between = parts[1::2], parts[0::2]
        joined = b'""'.join(between)
        structure = joined.translate(None, _JSON_SPACE)
        colons = structure.count(b":")
        keys = _keys_of(texts, between[1:], colons)
        if keys is None:
            return None
        values = len(texts) - colons
        text_bytes = len(window) - len(joined) - sum(map(len, keys))  # in value strings
        self.total += _ASCII_STR * values + text_bytes + self._keys(keys)
        if not window.isascii() or b"\\u" in window:  # as the token pass: `\u` may be wide
            wide = [text for text in texts if not text.isascii() or b"\\u" in text]
            self.total += (_WIDE_STR - _ASCII_STR) * len(wide) + 3 * sum(map(len, wide))
        self._structure(structure, colons, values)
        return structure

    def _structure(self, structure: bytes, colons: int, strings: int) -> None:
        """Objects, lists and numbers, counted from the structure alone (it holds no string)."""
        count = structure.count
        dicts, lists = count(b"{"), count(b"[")
        with_e = count(b"true") + count(b"false")  # the only `e`s that are not exponents
        literals = with_e + count(b"null")
        elements = count(b",") - colons + dicts - count(b"{}") + lists - count(b"[]")
        numbers = colons + elements - strings - dicts - lists - literals
        decimals = count(b".") + count(b"e") + count(b"E") - with_e
        self.total += _DICT * dicts + _ENTRY * colons + _LIST * lists + _ELEMENT * elements
        self.total += _INT * numbers + (_DECIMAL - _INT) * decimals + len(structure)
        self.lists += lists
        self.elements += elements

    def _keys(self, keys: list[bytes]) -> int:
        """What the keys cost: once each while the decoder's cache surely keeps them."""
        known = self.keys
        if known is not None and known.issuperset(keys):
            return 0  # every key already charged: the common case, at C speed
        cost, counted = 0, Counter(keys)
        if known is not None:
            new = [key for key in counted if key not in known]
            shareable = [key for key in new if len(key) + 2 <= _CACHED_KEY]
            if len(known) + len(shareable) > _SHARED_KEYS:
                self.keys = known = None
            else:
                known.update(shareable)
                cost += sum(_key_cost(key) for key in shareable)
                counted = Counter({key: counted[key] for key in new if key not in known})
        return cost + sum(_key_cost(key) * times for key, times in counted.items())


def _keys_of(texts: list[bytes], after: list[bytes], colons: int) -> list[bytes] | None:
    """The strings followed by a colon: the keys, as many as the structure's colons, or None."""
    keys = [text for text, then in zip(texts, after, strict=True) if then[:1] == b":"]
    if len(keys) != colons:  # a space before a colon, or not JSON
        keys = [
            t for t, then in zip(texts, after, strict=True) if then.lstrip(_JSON_SPACE)[:1] == b":"
        ]
    return keys if len(keys) == colons else None


def _key_cost(key: bytes) -> int:
    return _string_cost(key, 0, len(key), _narrow(key)) + 2


def _well_formed(structure: bytes) -> bool:
    """Whether the structure is JSON, read by the standard library without building it."""
    try:
        json.loads(
            structure,
            object_hook=bool,
            parse_float=bool,
            parse_int=bool,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError):
        return False
    return True


def _meter(data: bytes, copy: int) -> None:
    """Refuse `data` if its tree, plus `copy` bytes of text made to decode it, is too big.

    The quick bound vouches for most bodies; the token pass decides the others.
    """
    limit = MAX_DECODED_RATIO * len(data)
    quick = quick_cost(data, limit - copy)
    if quick is not None and copy + quick <= limit:
        return
    cost = copy + decoded_cost(data, limit - copy)
    if cost > limit:
        raise DenseJSON(
            f"body refused: its JSON would decode to more than {MAX_DECODED_RATIO} bytes of "
            f"objects per byte of its {len(data)} (a document of tiny values such as "
            "[0.1,0.1,…] or [{},{},…], which no provider sends)"
        )


# -- decoding ---------------------------------------------------------------------------------

_MINUS_ZERO = re.compile(rb"-0(?![0-9.eE])")


def _negative_zero_int(data: bytes) -> bool:
    """Whether `data` may hold an integer `-0`, the one JSON number an `int` cannot hold.

    A number follows the start of the text, `[`, `:` or `,` (and whitespace). `-0` inside a
    string (a RUT ending in 0) mostly fails that test; when it passes, only the slower exact
    decoder runs. A plain regex with that context would not start from a literal and costs
    ten times as much (about 1 µs per record).
    """
    for match in _MINUS_ZERO.finditer(data):
        i = match.start() - 1
        while i >= 0 and data[i] in _JSON_SPACE:
            i -= 1
        if i < 0 or data[i] in b"[:,":
            return True
    return False


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


def _int(text: str) -> int | Decimal:
    return Decimal(text) if text == "-0" else int(text)


def _standard(body: bytes | str) -> Any:
    return json.loads(body, parse_float=Decimal, parse_int=_int, parse_constant=_refuse_constant)


def load_json(body: bytes | str) -> Any:
    """Decode JSON exactly: a number with a fraction or exponent is the `Decimal` of its text,
    an integer is an `int` (an integer `-0` is `Decimal('-0')`, keeping its sign).

    jiter (pydantic's parser) reads the common case twice as fast as `json.loads`. A small
    text it refuses (a UTF-16 body, nesting deeper than 200, or simply bad JSON) and a text
    with an integer `-0` are read again by `json.loads`, whose answer or error message then
    stands. A metered body (see the module) must be UTF-8 and is read again only for a `-0`:
    `json.loads` first copies the whole text into a `str` of up to four bytes per character.

    Raises `DenseJSON` (a ValueError) for a body whose tree would pass the memory bound.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    metered = len(data) > METERED_FROM
    standard = _negative_zero_int(data)
    if metered:
        _meter(data, (len(data) if data.isascii() else 4 * len(data)) if standard else 0)
    if not standard:
        try:
            return jiter.from_json(data, allow_inf_nan=False, float_mode="decimal")
        except ValueError:
            if metered:  # the standard library's copy of the text was not metered
                raise
    return _standard(body)  # the standard library gives the answer or the message
