"""The typed error tree. Every message names the connector and capability; none holds a secret.

CaudalError
├── ConfigurationError      bad settings or call parameters; fix the call, do not retry
│   └── UnsupportedCapability
├── PluginError             a plugin could not be loaded (names plugin, distribution, reason)
├── TransportError          the provider could not be reached or answered garbage over HTTP
├── ProviderError           the provider answered with an error (code, message, request id, advice)
│   ├── AuthenticationError
│   └── ChallengeRequired   multi-factor: answer `e.challenge` with `conn.resume`
├── ChallengeExpired        the challenge's session ran out before it was answered
├── MappingError            the provider's body does not fit its documented shape (JSON path)
└── ConnectorBug            caudal's or a plugin's own code failed: a bug, not the provider's fault
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .model import Challenge

__all__ = [
    "AuthenticationError",
    "CaudalError",
    "ChallengeExpired",
    "ChallengeRequired",
    "ConfigurationError",
    "ConnectorBug",
    "MappingError",
    "RAW_BODY_LIMIT",
    "PluginError",
    "ProviderError",
    "RetryAdvice",
    "TransportError",
    "UnsupportedCapability",
    "detached",
]

E = TypeVar("E", bound=BaseException)


def detached(error: E) -> E:
    """`error` with its cause and context chains cut, as caudal's public calls raise it.

    `raise X from None` only hides the context: `__context__` still holds the exception being
    handled, and that one holds what caused it: pydantic's ValidationError keeps the input
    (an end user's password), httpx's errors keep the request (the API-key header, the
    credential body). A caudal error says everything in its message and attributes, so the
    chain is dropped on purpose where an error leaves caudal's API. `__traceback__` is kept:
    frames are for the developer (their locals may hold anything the code held).
    """
    error.__cause__ = None
    error.__context__ = None
    return error


class RetryAdvice(StrEnum):
    """What the provider says about trying again."""

    NOW = "now"
    """A transient fault: retry at once (bounded, with backoff)."""
    LATER = "later"
    """Retry after `retry_after`; only within the call's deadline, never by sleeping hours."""
    AFTER_NOTIFICATION = "after_notification"
    """Retry once the provider or the end user says the cause is fixed."""
    NEVER = "never"
    """Retrying cannot help: the request or the credentials are wrong."""


def _where(connector: str | None, capability: str | None) -> str:
    if connector and capability:
        return f"{connector} {capability}: "
    return f"{connector}: " if connector else ""


class CaudalError(Exception):
    """Base of every error caudal raises on purpose."""

    def __init__(
        self, message: str, *, connector: str | None = None, capability: str | None = None
    ) -> None:
        self.connector = connector
        self.capability = capability
        self.detail = message
        self.attempts = 1
        """How many times the request was sent before this error was raised (retries + 1)."""
        super().__init__(_where(connector, capability) + message)


class ConfigurationError(CaudalError):
    """Settings or call parameters are missing or invalid."""


class UnsupportedCapability(ConfigurationError, AttributeError):
    """The connector does not offer that capability; the message lists the ones it does."""


class PluginError(CaudalError):
    """A connector or extension plugin could not be loaded; other plugins are unaffected."""

    def __init__(self, plugin: str, distribution: str | None, reason: str, *, status: str) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.reason = reason
        self.status = status
        dist = f" (distribution {distribution})" if distribution else ""
        super().__init__(f"plugin {plugin!r}{dist}: {status}: {reason}")


class TransportError(CaudalError):
    """No usable HTTP answer: connection refused, timeout, oversize or non-JSON error page."""

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        capability: str | None = None,
        status: int | None = None,
        retry: RetryAdvice = RetryAdvice.NOW,
        retry_after: timedelta | None = None,
    ) -> None:
        self.status = status
        self.retry = retry
        self.retry_after = retry_after
        super().__init__(message, connector=connector, capability=capability)


class ProviderError(CaudalError):
    """The provider refused or failed the request and said so.

    `category` groups codes across providers (auth, credentials, unavailable, no_data,
    bad_request, unfinished, infrastructure, rate_limited, ...); `code` is the provider's own.
    """

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        capability: str | None = None,
        code: str | None = None,
        category: str = "unknown",
        request_id: str | None = None,
        status: int | None = None,
        retry: RetryAdvice = RetryAdvice.NEVER,
        retry_after: timedelta | None = None,
        provider_type: str | None = None,
    ) -> None:
        self.code = code
        self.category = category
        self.provider_message = message
        self.request_id = request_id
        self.status = status
        self.retry = retry
        self.retry_after = retry_after
        self.provider_type = provider_type
        ident = f"[{code}] " if code else ""
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{ident}{message}{rid}", connector=connector, capability=capability)


class AuthenticationError(ProviderError):
    """The provider rejected our credentials (API key, token, basic auth)."""


class ChallengeRequired(ProviderError):
    """The institution asks the end user for a second factor; answer it with `conn.resume`."""

    def __init__(self, challenge: Challenge, message: str, **kwargs: object) -> None:
        self.challenge = challenge
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ChallengeExpired(CaudalError):
    """The challenge's session ran out; start the capability call again."""


RAW_BODY_LIMIT = 256 * 1024
"""Bytes of a response body a `MappingError` keeps (when the call asked for `keep_raw`)."""


class MappingError(CaudalError):
    """The provider's body cannot be mapped; nothing from it is returned.

    `path` is a JSON path into the body (`$.Data.Balance[2].Amount.Amount`): the first problem.
    `problems` lists the first few `(path, reason)` pairs (`path`/`reason` are the first of
    them). Validation stops early (a hostile body must not cost memory per bad item), so
    `problem_count` is a lower bound when `problem_count_exact` is False: the message then says
    "at least N".
    """

    body: bytes | None = None
    """The response body that did not fit, its first `RAW_BODY_LIMIT` bytes; only when the call
    asked for `keep_raw=True` (the body is the end user's financial data), else None. Response
    bodies only: a request body, which carries credentials, is never kept."""
    body_size: int | None = None
    """The whole body's size in bytes (more than `len(body)` when it was cut at the limit)."""

    def keep_body(self, body: bytes) -> None:
        """Attach the offending response body, cut at `RAW_BODY_LIMIT` bytes."""
        self.body = bytes(body[:RAW_BODY_LIMIT])
        self.body_size = len(body)

    def __init__(
        self,
        reason: str,
        *,
        connector: str | None,
        capability: str | None,
        path: str = "$",
        problems: tuple[tuple[str, str], ...] = (),
        problem_count: int = 1,
        problem_count_exact: bool = True,
    ) -> None:
        self.path = path
        self.reason = reason
        self.problems = problems or ((path, reason),)
        self.problem_count = max(problem_count, len(self.problems))
        self.problem_count_exact = problem_count_exact
        super().__init__(_problems_text(self), connector=connector, capability=capability)


def _problems_text(error: MappingError) -> str:
    notes = []
    more = error.problem_count - 1
    if more > 0:
        listed = "; ".join(f"at {p}: {r}" for p, r in error.problems[1:])
        least = "" if error.problem_count_exact else "at least "
        notes.append(
            f"and {least}{more} more problem{'s' * (more > 1)}{': ' if listed else ''}{listed}"
        )
    if not error.problem_count_exact:
        notes.append("validation stopped at a list's first bad item: there may be more")
    return f"at {error.path}: {error.reason}" + (f" ({'; '.join(notes)})" if notes else "")


class ConnectorBug(CaudalError):
    """Code in caudal or in a connector plugin failed (an AttributeError, KeyError, TypeError,
    ...) where the provider's answer or the caller's input had already been accepted.

    Never a `MappingError`: the provider is not at fault and retrying will not help; report it
    to the plugin's authors. `bug` is the original exception's type name and `where` the file
    and line it was raised at; the error's `__traceback__` continues into the frames where it
    happened (for the developer), but the original exception object is not kept (its
    arguments could hold a request's credentials), so `__cause__` and `__context__` are None.
    """

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        capability: str | None = None,
        bug: str,
        where: str,
    ) -> None:
        self.bug = bug
        self.where = where
        super().__init__(message, connector=connector, capability=capability)
