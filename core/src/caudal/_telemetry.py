"""OpenTelemetry traces and metrics of capability calls: a no-op unless `opentelemetry-api` is
installed (the `caudal[otel]` extra), and a near no-op until the host app installs an SDK.

One span per capability call (`caudal.call`) with the connector, the capability, the attempts
it took and, when it failed, the error's type; counters `caudal.calls`, `caudal.errors`,
`caudal.retries` and `caudal.rate_limit.waits`. Attributes never hold a parameter or a body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

__all__ = ["call_span", "rate_limit_waited", "retried"]

_attempts: ContextVar[list[int] | None] = ContextVar("caudal_attempts", default=None)


@cache
def _otel() -> tuple[Any, dict[str, Any]] | None:
    """The tracer and counters, made once; None without the API installed."""
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        return None
    from . import __version__

    meter = metrics.get_meter("caudal", __version__)
    counters = {
        "calls": meter.create_counter("caudal.calls", description="capability calls"),
        "errors": meter.create_counter("caudal.errors", description="calls that failed"),
        "retries": meter.create_counter("caudal.retries", description="attempts repeated"),
        "waits": meter.create_counter(
            "caudal.rate_limit.waits", description="calls that waited for the rate limit"
        ),
    }
    return trace.get_tracer("caudal", __version__), counters


@contextmanager
def call_span(connector: str, capability: str) -> Iterator[None]:
    """Trace and count one capability call (its retries inside the runtime included)."""
    otel = _otel()
    if otel is None:
        yield
        return
    tracer, counters = otel
    where = {"caudal.connector": connector, "caudal.capability": capability}
    attempts = [1]
    reset = _attempts.set(attempts)
    with tracer.start_as_current_span("caudal.call", attributes=where) as span:
        try:
            yield
        except Exception as exc:
            kind = type(exc).__name__
            span.set_attribute("caudal.attempts", getattr(exc, "attempts", attempts[0]))
            span.set_attribute("error.type", kind)
            counters["errors"].add(1, {**where, "error.type": kind})
            raise
        else:
            span.set_attribute("caudal.attempts", attempts[0])
        finally:
            counters["calls"].add(1, where)
            _attempts.reset(reset)


def retried(connector: str | None, capability: str | None) -> None:
    """An attempt is about to be repeated (by the runtime, or rescheduled by a bulk run)."""
    otel = _otel()
    if otel is None:
        return
    attempts = _attempts.get()
    if attempts is not None:
        attempts[0] += 1
    where = {"caudal.connector": connector or "", "caudal.capability": capability or ""}
    otel[1]["retries"].add(1, where)


def rate_limit_waited(connector: str, seconds: float) -> None:
    """A call waited `seconds` for the rate limit's token."""
    otel = _otel()
    if otel is not None:
        otel[1]["waits"].add(1, {"caudal.connector": connector})
