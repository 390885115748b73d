"""One reading of an HTTP error status whose body is not the provider's own error shape.

An HTML 502 from a gateway, a 401 with an empty body, a 503 in plain text: nothing in the
body speaks for the provider, so the status alone decides, and it decides the same way for
every connector (a connector reads its provider's error bodies itself and calls this for
anything else):

- 401, 403: `AuthenticationError` (the credentials were refused, whoever said so); never retried;
- 429: `ProviderError`, category `rate_limited`, retried after `Retry-After`;
- any other status: `TransportError` ("answered garbage over HTTP"), retried when the status
  is transient (408, 5xx), never otherwise (a 404 or a 3xx will not change).
"""

from __future__ import annotations

from typing import Any

from .errors import AuthenticationError, CaudalError, ProviderError, RetryAdvice, TransportError
from .exchange import Call, Reply

__all__ = ["status_error"]


def status_error(reply: Reply, call: Call[Any], provider: str) -> CaudalError:
    """The typed error for `reply`'s status when its body is not `provider`'s error format."""
    from .runtime import parse_retry_after  # httpx only loads with the runtime

    status = reply.status
    kind = reply.header("content-type") or "no content type"
    where: dict[str, Any] = {
        "connector": call.connector,
        "capability": call.capability,
        "status": status,
    }
    if status in (401, 403):
        what = "rejected the credentials" if status == 401 else "refused access"
        return AuthenticationError(
            f"{provider} {what} (HTTP {status}, {kind}); check the connector's credentials",
            category="auth",
            retry=RetryAdvice.NEVER,
            **where,
        )
    retry_after = parse_retry_after(reply.header("retry-after"))
    if status == 429:
        return ProviderError(
            f"{provider} is limiting the request rate (HTTP 429, {kind})",
            category="rate_limited",
            retry=RetryAdvice.NOW,
            retry_after=retry_after,
            **where,
        )
    transient = status >= 500 or status == 408
    return TransportError(
        f"HTTP {status} with a body that is not {provider}'s error format ({kind}): "
        "likely a proxy or gateway in between",
        retry=RetryAdvice.NOW if transient else RetryAdvice.NEVER,
        retry_after=retry_after if transient else None,
        **where,
    )
