"""When to try a request again: the error's own retry advice, bounded by attempts and deadline."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from .._telemetry import retried
from ..errors import CaudalError, RetryAdvice, TransportError
from ..settings import ConnectorSettings

__all__ = ["MAX_RETRY_AFTER", "Attempts", "advised_delay", "parse_retry_after"]

log = logging.getLogger("caudal.runtime")

_JITTER = random.Random()  # noqa: S311 - jitter, not cryptography
"""Shared by every call: seeding a generator per call cost more (12 µs) than the call's mapping."""


MAX_RETRY_AFTER = timedelta(days=1)
"""The longest `Retry-After` believed: a larger one (or an overflowing number) is cut to this.
The delay is only a hint against the call's deadline (a wait past it is never slept), so one
day is as good as forever, and it keeps every later arithmetic on it finite."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """A `Retry-After` header (seconds or an HTTP date) as a delay; None if absent or unreadable.

    Never raises: the header is the provider's, and a garbled one must not turn the provider's
    own error (a 429, a 503) into another. Only ASCII digits count (`str.isdigit` also accepts
    `'³'` and `'٣'`); delays are cut to `MAX_RETRY_AFTER`, dates in the past give zero.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0")  # `int()` of thousands of digits is slow, then refused
        seconds = int(digits) if 0 < len(digits) <= 9 else (0 if not digits else 10**9)
        return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = when - (now or datetime.now(UTC))
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)


def advised_delay(
    error: CaudalError,
    attempt: int,
    backoff: float,
    max_backoff: float,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds before attempt `attempt + 1` by the error's own advice, or None when the advice is
    not to try again (`never`, `after_notification`, or `later` without a delay).

    `now` waits an exponential backoff with jitter; `Retry-After` is a floor, never below the
    backoff: `Retry-After: 0` must not make the attempts a hot loop against a provider that is
    already overloaded. The one policy for a call's own retries and for bulk runs'.
    """
    advice: RetryAdvice = getattr(error, "retry", RetryAdvice.NEVER)
    retry_after: timedelta | None = getattr(error, "retry_after", None)
    wait_for = retry_after.total_seconds() if retry_after is not None else None
    if advice is RetryAdvice.NOW or (advice is RetryAdvice.LATER and wait_for is not None):
        waited: float = min(max_backoff, backoff * 2 ** (attempt - 1))
        jitter: float = (rng or _JITTER).random()
        return max(waited * (0.5 + jitter / 2), wait_for or 0.0)
    return None


class Attempts:
    """Counts the attempts of one call and decides, after each failure, whether to go again."""

    def __init__(
        self,
        settings: ConnectorSettings,
        rng: random.Random | None = None,
        deadline: float | None = None,
    ) -> None:
        self._settings = settings
        self._rng = rng or _JITTER
        self.deadline = time.monotonic() + settings.deadline if deadline is None else deadline
        """When the call must be over, in `time.monotonic()` seconds: every attempt, token
        request, connect, header and body read of the call is bounded by it."""
        self.count = 0

    def remaining(self) -> float:
        """Seconds left before the call's deadline."""
        return self.deadline - time.monotonic()

    def delay_after(self, error: CaudalError) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise `error`."""
        if self.count >= self._settings.max_attempts:
            return None
        s = self._settings
        delay = advised_delay(error, self.count, s.backoff, s.max_backoff, self._rng)
        if delay is None or delay >= self.remaining():
            return None
        retried(error.connector, error.capability)
        kind = "transport" if isinstance(error, TransportError) else "provider"
        log.info(
            "retrying %s %s in %.2fs (attempt %d of %d) after %s error: %s",
            error.connector,
            error.capability,
            delay,
            self.count + 1,
            self._settings.max_attempts,
            kind,
            error.detail,
        )
        return delay
