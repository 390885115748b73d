"""`caudal bulk` as a user runs it: a real subprocess, killed with SIGKILL mid-run, then
`--resume`. Requests are counted at the provider (the sandbox in this process)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from .conftest import Provider, khipu_inputs, write_jsonl

N = 60


def _bulk(provider: Provider, *args: str) -> list[str]:
    return [sys.executable, "-m", "caudal", "bulk", "afc.cl", "balance", *args]


def _ids_in(out: Path) -> list[str]:
    if out.suffix == ".sqlite":
        with closing(sqlite3.connect(out)) as db:
            try:
                return [row[0] for row in db.execute("SELECT id FROM outcomes")]
            except sqlite3.OperationalError:  # the run has not created its table yet
                return []
    ids = []
    for line in out.read_bytes().split(b"\n"):
        try:
            ids.append(json.loads(line)["id"])
        except ValueError:
            continue  # a line cut by the kill
    return ids


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".jsonl", ".sqlite"])
def test_killed_run_resumes_with_nothing_missing_twice_or_refetched(
    provider: Provider, tmp_path: Path, suffix: str
) -> None:
    ids = [f"k{i:02d}" for i in range(N)]
    user = {i: f"slow-0.1-{suffix[1:]}-{i}" for i in ids}  # 100 ms at the provider
    source = write_jsonl(
        tmp_path / "in.jsonl", khipu_inputs(ids, "slow-0.1-" + suffix[1:] + "-{id}")
    )
    out = tmp_path / f"out{suffix}"
    args = ["--input", str(source), "--out", str(out), "--rate", "25", "--concurrency", "4"]
    first = subprocess.Popen(_bulk(provider, *args), env=provider.env(), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and first.poll() is None:
        if out.exists() and len(_ids_in(out)) >= N // 3:
            break
        time.sleep(0.02)
    assert first.poll() is None, first.stderr.read() if first.stderr else ""
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    before = provider.counts()
    done_before = set(_ids_in(out))
    assert N // 3 <= len(done_before) < N

    second = subprocess.run(
        _bulk(provider, *args, "--resume", "--json"),
        env=provider.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    final = _ids_in(out)
    assert sorted(final) == ids  # none missing, none twice
    after = provider.counts()
    refetched = [i for i in done_before if after[user[i]] != before[user[i]]]
    assert refetched == []
    summary = json.loads(second.stdout)
    assert summary["skipped_already_done"] + summary["done"] == N
    assert summary["skipped_already_done"] >= len(done_before)
    if suffix == ".jsonl":  # whole lines only, the checkpoint matching the file
        assert all(json.loads(line)["status"] == "ok" for line in out.read_text().splitlines())


def test_the_provider_never_sees_more_than_the_rate(provider: Provider, tmp_path: Path) -> None:
    # `caudal bulk` in a process of its own, so the provider (a thread of this process, idle
    # but for it) stamps arrivals without competing with the client for the interpreter.
    rate, n = 10, 35
    source = write_jsonl(tmp_path / "in.jsonl", khipu_inputs([f"r{i}" for i in range(n)]))
    args = ["--input", str(source), "--out", str(tmp_path / "out.jsonl"), "--json"]
    done = subprocess.run(
        _bulk(provider, *args, "--rate", str(rate), "--concurrency", "8"),
        env=provider.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] == n
    # The sender never exceeds R in any second (the window) and spaces its calls 1/R apart;
    # what the provider sees adds the path's jitter: a margin of 2 calls, where a plain
    # burst-then-wait window showed R + 4 and no limit at all 35.
    assert len(provider.arrivals.times) == n
    assert provider.arrivals.most_in_any_window(1.0) <= rate + 2
    assert summary["rate_limit_waits"] > 0


def test_failed_inputs_exit_7_and_a_bad_line_exits_2_before_any_call(
    provider: Provider, tmp_path: Path
) -> None:
    rows = khipu_inputs(["fine"]) + khipu_inputs(["refused"], "error-E401-cli")
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        _bulk(provider, "--input", str(source), "--out", str(out), "--json"),
        env=provider.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 8, done.stderr
    assert json.loads(done.stdout)["failed"] == {"ProviderError": 1}

    source.write_text(source.read_text() + '{"id": 3}\n')
    again = subprocess.run(
        _bulk(provider, "--input", str(source), "--out", str(tmp_path / "o2.jsonl")),
        env=provider.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 2 and "line 3" in again.stderr
    assert not (tmp_path / "o2.jsonl").exists() or (tmp_path / "o2.jsonl").read_text() == ""
    assert provider.counts().get("fine") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs --broker"),
        (["--broker", "redis://127.0.0.1:9/0", "--sandbox"], "cannot reach"),
        (["--broker", "redis://127.0.0.1:9/0", "-s", "deadline=5"], "own environment"),
    ],
)
def test_celery_engine_usage_errors_exit_2(
    provider: Provider, tmp_path: Path, args: list[str], message: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", khipu_inputs(["x"]))
    env = {k: v for k, v in provider.env().items() if k != "CAUDAL_BROKER_URL"}
    command = _bulk(provider, "--input", str(source), "--out", str(tmp_path / "o.jsonl"))
    done = subprocess.run(
        [*command, "--engine", "celery", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
