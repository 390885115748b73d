"""Reading Khipu's shared envelope: results, 202 acknowledgements and errors.

Khipu reports most failures inside an HTTP 200 (`Status: "ERROR"` with `Error{Code, Type,
Description}`), so the HTTP status alone says little. The order of reading is:

1. a non-2xx status: a Khipu ERROR envelope is Khipu's error (401/403 -> `AuthenticationError`,
   429/5xx retryable unless its `Type` says otherwise); any other body (an HTML error page,
   nothing) is read by its status alone, as for every connector (`caudal.status_error`);
2. the envelope's head (everything but `Data`): `Status: ERROR` -> `ProviderError` with Khipu's
   code, description, type, a retry advice and a category, whatever `Data` holds;
3. HTTP 202 -> `Pending`; otherwise `Data` is read with the endpoint's model and mapped.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from caudal import (
    AuthenticationError,
    Call,
    CaudalError,
    MappingError,
    Pending,
    ProviderError,
    Reply,
    Result,
    RetryAdvice,
    status_error,
)
from caudal.mapping import detach_list, stream_items, validate, validate_data
from caudal.model import builder
from caudal.runtime import parse_retry_after

from . import raw

if TYPE_CHECKING:
    from .base import Endpoint

__all__ = [
    "ERROR_CATEGORIES",
    "RETRY_TYPES",
    "advice_of",
    "category_of",
    "provider_error",
    "read_envelope",
]

_JSON: TypeAdapter[Any] = TypeAdapter(Any)
_HEAD = TypeAdapter(raw.Head)
_RESULT = builder(Result, "connector", "capability", "items", "operation_id", "notes", "raw")

RETRY_TYPES: dict[str, tuple[RetryAdvice, timedelta | None]] = {
    "RETRY_IMMEDIATELY": (RetryAdvice.NOW, None),
    "WAIT_4_HOURS_BEFORE_RETRY": (RetryAdvice.LATER, timedelta(hours=4)),
    "RETRY_AFTER_NOTIFICATION": (RetryAdvice.AFTER_NOTIFICATION, None),
    "DO_NOT_RETRY": (RetryAdvice.NEVER, None),
}
"""Khipu's `Error.Type` -> retry advice. Four hours exceed any call deadline, so the runtime
never waits them out inside a call; the caller sees `retry_after` and schedules it."""

ERROR_CATEGORIES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), category)
    for pattern, category in (
        (r"A\d{3}", "auth"),  # A000: JWT expired, revoked or invalid
        (r"E0\d\d", "generic"),  # E000: generic error without description
        (r"E1\d\d", "credentials"),  # login failed at the institution, blocked account
        (r"E2\d\d", "institution_unavailable"),  # the institution's site is down
        (r"E3\d\d", "no_data"),  # ran fine, found nothing for what was asked
        (r"E4\d\d", "bad_request"),  # bad parameter values
        (r"E5\d\d", "payments"),  # automatic-payment services
        (r"E999", "provider_message"),  # free-text error that fits no group
        (r"D\d{3}", "unfinished"),  # extraction not finished yet
        (r"T\d{3}", "timed_out"),  # extraction timed out at the institution
        (r"F\d{3}", "response_build"),  # Khipu failed to build the response
        (r"I\d{3}", "infrastructure"),  # Khipu infrastructure
        (r"P\d{3}", "bad_request"),  # request parameters
    )
)
"""Khipu's code families (its public error page) -> caudal error category."""


def category_of(code: str | None) -> str:
    """The category of a Khipu error code; `unknown` for a code outside the documented families."""
    if not code:
        return "unknown"
    normalized = code.strip().upper()
    for pattern, category in ERROR_CATEGORIES:
        if pattern.fullmatch(normalized):
            return category
    return "unknown"


def advice_of(error_type: str | None) -> tuple[RetryAdvice, timedelta | None]:
    """Retry advice for a Khipu `Error.Type`; an unknown type is never retried automatically."""
    return RETRY_TYPES.get((error_type or "").strip().upper(), (RetryAdvice.NEVER, None))


def provider_error(head: raw.Head, call: Call[Any], status: int | None = None) -> ProviderError:
    """The typed error for an ERROR envelope; A-family codes are authentication errors."""
    detail = head.Error or raw.ErrorDetail()
    category = category_of(detail.Code)
    retry, retry_after = advice_of(detail.Type)
    message = detail.Description or "Khipu reported an error without a description"
    kind = AuthenticationError if category == "auth" else ProviderError
    return kind(
        message,
        connector=call.connector,
        capability=call.capability,
        code=detail.Code,
        category=category,
        request_id=head.OperationId,
        status=status,
        retry=retry,
        retry_after=retry_after,
        provider_type=detail.Type,
    )


def _error_envelope(reply: Reply, call: Call[Any]) -> raw.Head | None:
    try:
        head = validate(_HEAD, reply.body, call)
    except MappingError:
        return None
    return head if head.Status == "ERROR" else None


def http_error(reply: Reply, call: Call[Any]) -> CaudalError:
    """A non-2xx answer as a typed error: Khipu's own when the body is a Khipu ERROR envelope,
    else caudal's one reading of a bare status (`caudal.status_error`), the same for every
    connector (an HTML 502 from a proxy is a TransportError, a 401 an AuthenticationError)."""
    head = _error_envelope(reply, call)
    if head is None:
        return status_error(reply, call, "Khipu")
    if reply.status in (401, 403):
        what = "rejected the credentials" if reply.status == 401 else "refused access"
        return AuthenticationError(
            f"Khipu {what} (HTTP {reply.status}): check api_key / jwt / client credentials",
            connector=call.connector,
            capability=call.capability,
            status=reply.status,
            category="auth",
            code=head.Error.Code if head.Error else None,
            request_id=head.OperationId,
        )
    error = provider_error(head, call, reply.status)
    unadvised = error.provider_type is None or error.provider_type.upper() not in RETRY_TYPES
    if unadvised and (reply.status >= 500 or reply.status == 429):
        error.retry = RetryAdvice.NOW
        error.retry_after = parse_retry_after(reply.header("retry-after"))
    return error


def _notes(head: raw.Head) -> tuple[str, ...]:
    text = (head.AdditionalInformation or "").strip()
    return (text,) if text else ()


def _pending(head: raw.Head, call: Call[Any]) -> Pending:
    return Pending(
        connector=call.connector,
        capability=call.capability,
        operation_id=head.OperationId,
        deadline=head.LifeSpan,
        notes=_notes(head),
    )


def _no_data(head: raw.Head, call: Call[Any]) -> CaudalError:
    """`Status: OK` with `Data: null`, never an empty Result that reads like "no accounts".

    Khipu's documentation allows it ("the service ran, even if it returns no data"): it says
    what its E3xx codes say, so it is the same `ProviderError` (category `no_data`, not
    retried), named by the operation id. A body with a `LifeSpan` is a stored 202
    acknowledgement, not a result at all.
    """
    if head.LifeSpan is not None:
        return MappingError(
            f"body is Khipu's acknowledgement of pending operation {head.OperationId} "
            "(Data null, LifeSpan set), not a result",
            connector=call.connector,
            capability=call.capability,
            path="$.Data",
        )
    return ProviderError(
        "Khipu answered OK without data (Data is null): nothing found for what was asked",
        connector=call.connector,
        capability=call.capability,
        category="no_data",
        request_id=head.OperationId,
        retry=RetryAdvice.NEVER,
    )


def read_envelope(
    reply: Reply, call: Call[Any], endpoint: Endpoint[Any, Any]
) -> Result[Any] | Pending:
    """Read one Khipu answer into a Result (or a Pending for a 202), or raise its typed error.

    The records' list is taken out of the decoded body and validated item by item as the
    records are built, each decoded item and raw model dropped once used: a large body never
    holds its tree, every raw model and every record at once.
    """
    if not 200 <= reply.status < 300:
        raise http_error(reply, call)
    body = validate(_JSON, reply.body, call)
    head = validate_data(_HEAD, body, call)
    if head.Status == "ERROR":
        raise provider_error(head, call, reply.status)
    if reply.status == 202:
        if call.callback_url is None:
            raise MappingError(
                f"Khipu acknowledged operation {head.OperationId} as pending (HTTP 202) "
                "although no callback_url was given; its result cannot be delivered",
                connector=call.connector,
                capability=call.capability,
            )
        return _pending(head, call)
    listed = detach_list(body, ("Data", *endpoint.items))
    parsed = validate_data(endpoint.envelope, body, call, detached=listed)
    del body  # the rest of the decoded tree: freed before the records are built (peak memory)
    if parsed.Data is None:
        raise _no_data(parsed, call)
    path = ".".join(("$.Data", *endpoint.items))
    items = stream_items(listed, endpoint.item, call, path)
    records = tuple(endpoint.records(parsed.Data, items, call))
    return _RESULT(
        connector=call.connector,
        capability=call.capability,
        items=records,
        operation_id=parsed.OperationId,
        notes=_notes(parsed),
        raw=reply.body.decode("utf-8") if call.keep_raw else None,
    )
