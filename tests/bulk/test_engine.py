"""The embedded engine against the sandbox over real HTTP: outcomes, retries by advice,
challenges, the rate the provider sees, and memory bounded by the caps, not the inputs."""

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from caudal import Challenge, ProviderError, RetryAdvice
from caudal.bulk import BulkInput, JsonlSink, Retries, SqliteSink, retry_delay, run
from caudal_belvo.emulator import MFA_TOKEN

from .conftest import Provider, khipu_inputs, read_lines


def _inputs(rows: list[dict[str, Any]]) -> list[BulkInput]:
    return [BulkInput.from_json(r) for r in rows]


def test_every_input_gets_one_exact_line(provider: Provider, tmp_path: Path) -> None:
    ids = [f"acct-{i:03d}" for i in range(30)]
    rows = khipu_inputs(ids) + khipu_inputs(["never"], "error-E401-never")
    conn = provider.sandbox.connect("afc.cl", max_attempts=1)
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        summary = run(conn, "balance", _inputs(rows), sink, concurrency=6)
    lines = read_lines(tmp_path / "out.jsonl")
    assert sorted(line["id"] for line in lines) == sorted([*ids, "never"])
    by_id = {line["id"]: line for line in lines}
    # the records are the canonical JSON of what a single call returns, digit for digit
    expected = conn.balance(credential={"Username": "acct-007", "Password": "pw"})
    assert by_id["acct-007"]["records"] == [b.model_dump(mode="json") for b in expected]
    assert isinstance(by_id["acct-007"]["records"][0]["amount"]["amount"], str)
    # NEVER is recorded after one call, with its type and advice, and no credential anywhere
    assert by_id["never"]["status"] == "error"
    assert by_id["never"]["error"]["type"] == "ProviderError"
    assert by_id["never"]["error"]["retry"] == "never"
    assert "[E401]" in by_id["never"]["error"]["message"]
    assert provider.counts()["error-E401-never"] == 1
    assert '"pw"' not in (tmp_path / "out.jsonl").read_text()
    assert (summary.ok, summary.failed, summary.calls) == (30, {"ProviderError": 1}, 31)


def test_a_429_is_rescheduled_without_holding_the_slot(provider: Provider, tmp_path: Path) -> None:
    # One slot: were the 429's Retry-After slept inside the call, nothing else could run.
    rows = khipu_inputs(["limited"], "http-429-limited") + khipu_inputs([f"u{i}" for i in range(6)])
    conn = provider.sandbox.connect("afc.cl", max_attempts=1)
    with SqliteSink(tmp_path / "out.sqlite") as sink:
        summary = run(conn, "balance", _inputs(rows), sink, concurrency=1, retries=Retries(3))
        lines = [json.loads(line) for line in sink.lines()]
    assert [line["id"] for line in lines][:6] == [f"u{i}" for i in range(6)]
    assert lines[-1]["id"] == "limited" and lines[-1]["error"]["retry"] == "now"
    assert provider.counts()["http-429-limited"] == 3
    assert summary.retries == 2


def test_a_long_later_is_recorded_not_waited_for(provider: Provider, tmp_path: Path) -> None:
    rows = khipu_inputs(["down"], "error-E201-down")  # WAIT_4_HOURS_BEFORE_RETRY
    conn = provider.sandbox.connect("afc.cl", max_attempts=1)
    started = time.monotonic()
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        run(conn, "balance", _inputs(rows), sink)
    assert time.monotonic() - started < 30
    (line,) = read_lines(tmp_path / "out.jsonl")
    assert line["status"] == "error" and line["error"]["retry"] == "later"
    assert provider.counts()["error-E201-down"] == 1


def test_retry_delay_follows_the_advice() -> None:
    retries = Retries(max_attempts=4, backoff=1.0, max_backoff=10.0, max_delay=60.0)

    def error(advice: RetryAdvice, after: float | None = None) -> ProviderError:
        later = timedelta(seconds=after) if after is not None else None
        return ProviderError("x", retry=advice, retry_after=later)

    assert retry_delay(error(RetryAdvice.LATER, 30), 1, retries) == 30
    assert retry_delay(error(RetryAdvice.LATER, 61), 1, retries) is None
    assert retry_delay(error(RetryAdvice.LATER), 1, retries) is None
    assert retry_delay(error(RetryAdvice.NEVER, 1), 1, retries) is None
    assert retry_delay(error(RetryAdvice.AFTER_NOTIFICATION, 1), 1, retries) is None
    assert retry_delay(error(RetryAdvice.NOW, 5), 1, retries) == 5
    assert 2.0 <= (retry_delay(error(RetryAdvice.NOW), 3, retries) or 0) <= 4.0
    assert retry_delay(error(RetryAdvice.NOW), 4, retries) is None


def test_challenges_are_collected_and_answerable(provider: Provider, tmp_path: Path) -> None:
    links = ["mfa-one", "ok-1", "mfa-two", "ok-2"]
    rows = [{"id": link, "params": {"link": link}} for link in links]
    conn = provider.sandbox.connect("belvo.br", max_attempts=1)
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        summary = run(conn, "balance", _inputs(rows), sink, concurrency=4)
    by_id = {line["id"]: line for line in read_lines(tmp_path / "out.jsonl")}
    assert summary.challenges == 2 and summary.ok == 2
    challenge = Challenge.model_validate(by_id["mfa-two"]["challenge"])
    assert by_id["mfa-two"]["status"] == "challenge" and challenge.capability == "balance"
    assert len(conn.resume(challenge, token=MFA_TOKEN)) > 0


def test_memory_is_bounded_by_the_caps_not_the_inputs(provider: Provider, tmp_path: Path) -> None:
    pulled = 0
    ahead: list[int] = []

    def inputs() -> Iterator[BulkInput]:
        nonlocal pulled
        for i in range(200):
            pulled += 1
            yield BulkInput(f"m{i}", {"credential": {"Username": f"m{i}", "Password": "pw"}})

    conn = provider.sandbox.connect("afc.cl", max_attempts=1)
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        summary = run(
            conn,
            "balance",
            inputs(),
            sink,
            concurrency=4,
            max_delayed=4,
            on_progress=lambda s: ahead.append(pulled - s.done),
        )
    assert summary.ok == 200
    assert max(ahead) <= 4 + 4 + 1  # running + waiting for a retry + the one being admitted


def test_a_repeated_id_is_written_once(provider: Provider, tmp_path: Path) -> None:
    rows = khipu_inputs(["same", "other", "same"])
    conn = provider.sandbox.connect("afc.cl", max_attempts=1)
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        summary = run(conn, "balance", _inputs(rows), sink, concurrency=4)
    assert sorted(line["id"] for line in read_lines(tmp_path / "out.jsonl")) == ["other", "same"]
    assert summary.duplicates == 1


def test_bad_concurrency_is_refused(provider: Provider, tmp_path: Path) -> None:
    conn = provider.sandbox.connect("afc.cl")
    with JsonlSink(tmp_path / "out.jsonl") as sink, pytest.raises(ValueError, match="concurrency"):
        run(conn, "balance", [], sink, concurrency=0)
