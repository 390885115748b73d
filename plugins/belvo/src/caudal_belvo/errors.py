"""Belvo error replies -> caudal's typed errors.

Belvo answers errors as a JSON array of `{code, message, request_id}`; the HTTP status decides
the error type and whether retrying can help, and Belvo's `code`, `message` and `request_id` are
carried unchanged (an unknown code is carried too, never swallowed). A body that is not that
array (a proxy's HTML error page, an empty 401) is read by its status alone, as for every
connector (`caudal.status_error`), never a decoding crash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NamedTuple

from pydantic import Field, TypeAdapter

from caudal import (
    AuthenticationError,
    Call,
    CaudalError,
    Challenge,
    ChallengeRequired,
    MappingError,
    ProviderError,
    Reply,
    RetryAdvice,
    status_error,
)
from caudal.mapping import load_json, mapping_errors, validate_data
from caudal.runtime import parse_retry_after

from .raw import RawError, RawTokenGenerationData, RawTokenRequired

__all__ = ["error_for", "now"]

ERRORS = TypeAdapter(list[RawError])
TOKEN_REQUIRED = TypeAdapter(Annotated[list[RawTokenRequired], Field(min_length=1)])

now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaceable clock
"""The clock challenges' deadlines are computed from (tests replace it)."""


class Rule(NamedTuple):
    """How to treat one HTTP status: which error, which cross-provider category, retry or not."""

    error: type[ProviderError]
    category: str
    retry: RetryAdvice


RULES: dict[int, Rule] = {
    400: Rule(ProviderError, "bad_request", RetryAdvice.NEVER),
    401: Rule(AuthenticationError, "auth", RetryAdvice.NEVER),
    403: Rule(ProviderError, "forbidden", RetryAdvice.NEVER),
    # `request_timeout`: Belvo gave up collecting from the institution; asking again (or for
    # less) can succeed.
    408: Rule(ProviderError, "unfinished", RetryAdvice.NOW),
    429: Rule(ProviderError, "rate_limited", RetryAdvice.NOW),
    500: Rule(ProviderError, "infrastructure", RetryAdvice.NOW),
}
"""The documented statuses (and 429, which every HTTP API may send)."""


def rule_for(status: int) -> Rule:
    """The documented rule, else: any 5xx may pass, any other status will not."""
    if status in RULES:
        return RULES[status]
    if status >= 500:
        return Rule(ProviderError, "infrastructure", RetryAdvice.NOW)
    return Rule(ProviderError, "unknown", RetryAdvice.NEVER)


def error_for(reply: Reply, call: Call[Any]) -> CaudalError:
    """The typed error for a non-success reply (the caller raises it)."""
    try:
        data = load_json(reply.body)
    except (ValueError, RecursionError):
        data = None
    if reply.status == 428 and data is not None:
        return _challenge(data, reply, call)
    errors = _errors_in(data, call)
    if not errors:
        return status_error(reply, call, "Belvo")
    rule = rule_for(reply.status)
    first = errors[0]
    return rule.error(
        _message(errors, reply.status),
        connector=call.connector,
        capability=call.capability,
        code=first.code,
        category=rule.category,
        request_id=first.request_id,
        status=reply.status,
        retry=rule.retry,
        retry_after=parse_retry_after(reply.header("retry-after")),
    )


def _errors_in(data: Any, call: Call[Any]) -> list[RawError]:
    """Belvo's errors; none when the body is not its documented array of `{code, message}`.

    A lone object reads like an array of one; an error that has neither a code nor a message
    says nothing of Belvo's, so such a body is not Belvo's (the status alone then decides).
    """
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return []
    try:
        errors = validate_data(ERRORS, data, call)
    except MappingError:
        return []
    return errors if any(e.code or e.message for e in errors) else []


def _message(errors: list[RawError], status: int) -> str:
    first, *more = errors
    text = first.message or f"HTTP {status} with no error message"
    also = "; ".join(f"[{e.code}] {e.message}" if e.code else f"{e.message}" for e in more)
    return f"{text} (also: {also})" if also else text


def _challenge(data: Any, reply: Reply, call: Call[Any]) -> ChallengeRequired:
    """A 428 `token_required`: the challenge the host app answers with `conn.resume`."""
    if isinstance(data, dict):
        data = [data]
    first = validate_data(TOKEN_REQUIRED, data, call)[0]
    with mapping_errors(call, "$[0]"):
        challenge = _challenge_of(first, call)
    return ChallengeRequired(
        challenge,
        first.message or "the institution asks the end user for a second factor",
        connector=call.connector,
        capability=call.capability,
        code=first.code,
        category="challenge",
        request_id=first.request_id,
        status=reply.status,
        retry=RetryAdvice.NEVER,
    )


def _challenge_of(raw: RawTokenRequired, call: Call[Any]) -> Challenge:
    # The original parameters travel with the challenge: `resume` reads the answer with them.
    params = call.params.model_dump(mode="json", exclude_none=True) if call.params else {}
    how = raw.token_generation_data or RawTokenGenerationData()
    link = raw.link or params.get("link")
    return Challenge(
        connector=call.connector,
        capability=call.capability,
        params=params,
        session=raw.session,
        expires_at=now() + timedelta(seconds=raw.expiry),
        link=link if isinstance(link, str) else None,
        method=how.type,
        instructions=how.instructions,
        value=how.value,
        # When Belvo does not say, assume the user has something to do: the safe reading.
        expects_user_input=True if how.expects_user_input is None else how.expects_user_input,
        request_id=raw.request_id,
    )
