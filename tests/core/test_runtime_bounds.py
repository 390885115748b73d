"""The runtime's bounds without a server: Retry-After parsing and the retry floor, bounded
decoding. The same bounds over real sockets are in tests/faults/."""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from caudal import ConnectorSettings, ProviderError, RetryAdvice
from caudal.runtime import MAX_RETRY_AFTER, Attempts, parse_retry_after
from caudal.runtime._decode import BodyTooLarge, DecodingFailed, decoder_for

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", timedelta(seconds=7)),
        (" 0 ", timedelta(0)),
        ("0000000000000000000005", timedelta(seconds=5)),
        ("99999999999999999999", MAX_RETRY_AFTER),  # timedelta() would overflow
        ("9" * 5000, MAX_RETRY_AFTER),  # int() refuses more than 4300 digits
        ("86401", MAX_RETRY_AFTER),
        ("³", None),  # str.isdigit() says yes, int() raises
        ("٣", None),  # an Arabic-Indic three: not HTTP's digits
        ("-1", None),
        ("1.5", None),
        ("Thu, 01 Jan 2026 00:00:10 GMT", timedelta(seconds=10)),
        ("Wed, 31 Dec 2025 00:00:00 GMT", timedelta(0)),
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_never_raises_and_is_bounded(value: str, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


class _Settings(ConnectorSettings):
    base_url: str = "http://127.0.0.1:9"


def test_retry_after_zero_is_no_hot_loop() -> None:
    settings = _Settings(backoff=0.2, max_backoff=1.0, max_attempts=5)
    attempts = Attempts(settings, random.Random(1))
    error = ProviderError("429", retry=RetryAdvice.LATER, retry_after=timedelta(0))
    delays = []
    for count in range(1, 5):
        attempts.count = count
        delay = attempts.delay_after(error)
        assert delay is not None
        delays.append(delay)
    assert min(delays) >= 0.1  # half the first backoff at least: never zero
    attempts.count = 5
    assert attempts.delay_after(error) is None  # and bounded by max_attempts


def test_a_long_retry_after_is_not_waited_past_the_deadline() -> None:
    attempts = Attempts(_Settings(deadline=5))
    attempts.count = 1
    error = ProviderError("429", retry=RetryAdvice.LATER, retry_after=MAX_RETRY_AFTER)
    assert attempts.delay_after(error) is None


BODY = b'{"amount": 1.10}' * 2000


@pytest.mark.parametrize(
    ("encodings", "data"),
    [
        (["gzip"], gzip.compress(BODY)),
        (["x-gzip"], gzip.compress(BODY)),
        (["deflate"], zlib.compress(BODY)),
        (["deflate"], zlib.compress(BODY)[2:-4]),  # raw deflate, as some servers send it
        (["gzip", "gzip"], gzip.compress(gzip.compress(BODY))),
        (["identity"], BODY),
    ],
)
@pytest.mark.parametrize("piece", [1, 7, 65536])
def test_decoding_gives_the_body_back_whatever_the_pieces(
    encodings: list[str], data: bytes, piece: int
) -> None:
    decoder = decoder_for(encodings)
    if decoder is None:
        assert encodings == ["identity"]
        return
    out = b"".join(decoder.feed(data[i : i + piece], len(BODY)) for i in range(0, len(data), piece))
    decoder.finish()
    assert out == BODY


def test_one_chunk_of_a_bomb_never_inflates_past_the_room_left() -> None:
    bomb = gzip.compress(bytes(64 << 20), 1)[:65536]  # one chunk as received: ~64 MiB inside
    decoder = decoder_for(["gzip"])
    assert decoder is not None
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            decoder.feed(bomb, 1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 3 << 20  # the room (1 MiB) and change, not the 64 MiB inflated


@pytest.mark.parametrize(
    ("encodings", "data", "reason"),
    [
        (["br"], b"x", "was not asked for"),
        (["gzip"] * 3, b"x", "stacked"),
        (["gzip"], b"not gzip at all", "not valid gzip"),
        (["gzip"], gzip.compress(BODY)[:100], "ended before"),
    ],
)
def test_undecodable_bodies_say_why(encodings: list[str], data: bytes, reason: str) -> None:
    def decode() -> None:
        decoder = decoder_for(encodings)
        assert decoder is not None
        decoder.feed(data, 1 << 20)
        decoder.finish()

    with pytest.raises(DecodingFailed, match=reason):
        decode()
