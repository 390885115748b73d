"""The rate limit: at most R calls in any window, per connector (and optionally per credential),
kept in memory for one process or in Redis for every worker of a distributed run.

Built on `limits` (moving window): see docs/bulk.md for why this library and this strategy.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .._telemetry import rate_limit_waited
from ..errors import ConfigurationError

__all__ = ["RateLimit", "RateLimiter", "credential_key"]

MAX_WINDOW = 3600
"""Seconds; a rate is written as a whole number of calls per whole seconds up to this."""


@dataclass(frozen=True)
class RateLimit:
    """`rate` calls per second at most, over any window of `window_of(rate)` seconds.

    `per`, when given, adds a second limit of `per_rate` calls per second (default: `rate`)
    for each key it gives of an input's parameters (one bucket per end-user credential, say;
    `credential_key` hashes the value, which is never stored). `storage` is `memory://` (one
    process) or a Redis URL (`redis://127.0.0.1:6379/0`) shared by every process using it.
    """

    rate: float
    per: Callable[[dict[str, Any]], str | None] | None = None
    per_rate: float | None = None
    storage: str = "memory://"
    name: str = "caudal-bulk"

    def __post_init__(self) -> None:
        if not self.rate > 0 or (self.per_rate is not None and not self.per_rate > 0):
            raise ConfigurationError("the rate must be a positive number of calls per second")


def credential_key(param: str) -> Callable[[dict[str, Any]], str | None]:
    """A `RateLimit.per` splitting by the parameter `param` (the credential, or a link id)."""

    def key(params: dict[str, Any]) -> str | None:
        value = params.get(param)
        if value is None:
            return None
        text = json.dumps(value, sort_keys=True, default=str).encode()
        return hashlib.sha256(text).hexdigest()[:32]

    return key


def _item(rate: float) -> Any:
    from limits import RateLimitItemPerSecond

    # 2.5/s becomes 5 per 2 s: a moving window needs whole calls over whole seconds.
    exact = Fraction(rate).limit_denominator(MAX_WINDOW)
    if exact.numerator < 1:
        raise ConfigurationError(f"the rate is below one call per {MAX_WINDOW} s")
    return RateLimitItemPerSecond(exact.numerator, exact.denominator)


def _storage(uri: str) -> Any:
    from limits.storage import storage_from_string

    scheme = uri.split(":", 1)[0]
    if scheme not in {"memory", "redis", "rediss"}:
        raise ConfigurationError("a rate-limit storage is memory:// or a redis:// URL")
    # redis-py (the `caudal[redis]` extra) rather than limits' default async driver, coredis.
    options = {"implementation": "redispy"} if scheme != "memory" else {}
    try:
        return storage_from_string(f"async+{uri}", **options)
    except Exception as exc:  # limits raises its own config errors for a missing driver
        raise ConfigurationError(f"cannot use that rate-limit storage: {exc}") from None


class RateLimiter:
    """Waits for a token. One coroutine per process polls the shared window at a time, so a
    released slot wakes one waiter instead of the whole concurrency cap.

    A process also spaces its own calls at least 1/R apart. The window alone lets R calls
    leave at once; their arrivals at the provider then spread by network jitter, and a
    provider counting arrivals could see the next window's R land within the same second
    (measured on loopback: 14 arrivals in one second at R=10). Spaced calls keep the
    provider's count at R plus what the path's jitter moves across the edge of a window (a
    call or two, measured on a loaded machine).
    """

    def __init__(self, limit: RateLimit, connector: str) -> None:
        from limits.aio.strategies import MovingWindowRateLimiter

        self.limit = limit
        self._connector = connector
        self._item = _item(limit.rate)
        self._per_item = _item(limit.per_rate or limit.rate)
        self._window = MovingWindowRateLimiter(_storage(limit.storage))
        self._lock = asyncio.Lock()
        self._spacing = 1 / limit.rate
        self._next = 0.0
        self.waits = 0
        self.waited = 0.0

    async def acquire(self, params: dict[str, Any]) -> float:
        """Take one call's token for these parameters; the seconds it waited for it.

        The credential's own token (if the limit is split) is taken first and outside the
        lock: one end user's exhausted quota must not hold up everybody else's calls.
        """
        waited = 0.0
        if self.limit.per is not None and (split := self.limit.per(params)) is not None:
            waited += await self._take(self._per_item, self.limit.name, self._connector, split)
        async with self._lock:
            started = time.monotonic()
            if self._next > started:
                await asyncio.sleep(self._next - started)
            waited += time.monotonic() - started
            waited += await self._take(self._item, self.limit.name, self._connector)
            # On schedule, the next slot is one spacing after this one's (no drift from sleep
            # overshoot); after an idle spell, at least half a spacing from now.
            now = time.monotonic()
            self._next = max(self._next + self._spacing, now + self._spacing / 2)
        if waited > 0.001:
            self.waits += 1
            self.waited += waited
            rate_limit_waited(self._connector, waited)
        return waited

    async def _take(self, item: Any, *key: str) -> float:
        started = time.monotonic()
        while not await self._window.hit(item, *key):
            stats = await self._window.get_window_stats(item, *key)
            pause = min(max(stats.reset_time - time.time(), 0.001), item.get_expiry())
            await asyncio.sleep(pause)
        return time.monotonic() - started
