"""A sink in Redis: the shared checkpoint and result store of a distributed run.

One hash per job holds `id -> outcome line`; `HSETNX` makes "store the outcome" and "mark the
id done" one atomic step, so a task delivered twice (a worker killed after its call, before
its acknowledgement) writes its id once. Counts per status and error type are kept beside it
in the same Lua call, for the summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import ConfigurationError
from ._outcome import Outcome
from ._sinks import _Closing

__all__ = ["RedisSink"]

_ADD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  return 1
end
return 0
"""


def redis_client(url: str) -> Any:
    """A redis-py client for `url` (the `caudal[redis]` extra)."""
    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            "a Redis store needs the redis package: pip install 'caudal[redis]'"
        ) from None
    try:
        return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    except ValueError as exc:
        raise ConfigurationError(f"not a Redis URL ({exc})") from None


class RedisSink(_Closing):
    """Outcomes of the job `job` in Redis at `url` (keys `caudal:bulk:<job>:*`)."""

    def __init__(self, url: str, job: str, *, client: Any = None) -> None:
        self._redis = client if client is not None else redis_client(url)
        prefix = f"caudal:bulk:{job}"
        self.outcomes_key = f"{prefix}:outcomes"
        self.counts_key = f"{prefix}:counts"
        self.submitted_key = f"{prefix}:submitted"
        self._add = self._redis.register_script(_ADD)

    def completed(self, ident: str) -> bool:
        return bool(self._redis.hexists(self.outcomes_key, ident))

    def add(self, outcome: Outcome) -> bool:
        """Store `outcome` unless its id has one already; whether this call stored it."""
        kind = outcome.status if outcome.status != "error" else f"error:{outcome.error_type}"
        keys = [self.outcomes_key, self.counts_key]
        return bool(self._add(keys=keys, args=[outcome.id, outcome.line, kind]))

    def write(self, outcome: Outcome) -> None:
        if not self.add(outcome):
            raise ConfigurationError(f"job store: id {outcome.id!r} written twice")

    def count(self, what: str, by: int = 1) -> None:
        """Add to one of the job's counters (calls, retries, rate-limit waits)."""
        self._redis.hincrby(self.counts_key, what, by)

    def counts(self) -> dict[str, int]:
        raw = self._redis.hgetall(self.counts_key)
        return {k.decode(): int(v) for k, v in raw.items()}

    def submit(self, ident: str) -> bool:
        """Note `ident` as part of the job; False if it was already (a repeated id)."""
        return bool(self._redis.sadd(self.submitted_key, ident))

    def progress(self) -> tuple[int, int]:
        """(outcomes stored, distinct ids submitted)."""
        pipe = self._redis.pipeline()
        pipe.hlen(self.outcomes_key)
        pipe.scard(self.submitted_key)
        stored, submitted = pipe.execute()
        return int(stored), int(submitted)

    def has_data(self) -> bool:
        return bool(self._redis.exists(self.outcomes_key, self.submitted_key))

    def lines(self) -> Iterator[str]:
        """Every stored outcome line, streamed (HSCAN), in no particular order."""
        for _, line in self._redis.hscan_iter(self.outcomes_key, count=500):
            yield line.decode("utf-8")

    def drop(self) -> None:
        """Delete the job's keys (once its outcomes are exported)."""
        self._redis.delete(self.outcomes_key, self.counts_key, self.submitted_key)

    def close(self) -> None:
        self._redis.close()
