"""The error tables a plugin exposes, rendered for its connectors' pages.

caudal has no standard place for a plugin's error table yet, so this module knows where each
bundled plugin keeps its own (read from the objects the plugin's code uses, never restated).
A plugin it does not know gets the documented-error cases of its emulator only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from caudal import Call, CaudalError, ProviderError, Reply

from .render import cell, code, table

__all__ = ["describe_error", "provider_tables"]


def _retry(error: CaudalError) -> str:
    advice = getattr(error, "retry", None)
    text = code(advice.value) if advice is not None else ""
    after = getattr(error, "retry_after", None)
    if after is not None:
        text += f" after {_duration(after.total_seconds())}"
    return text


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' * (hours != 1)}"
    return f"{seconds:g} s"


def describe_error(error: CaudalError) -> list[str]:
    """Cells: raised type, category, retry advice."""
    category = error.category if isinstance(error, ProviderError) else ""
    return [code(type(error).__name__), code(category) if category else "", _retry(error)]


def _khipu(package: str, connector: str) -> str:
    envelope = importlib.import_module(f"{package}.envelope")
    raw = importlib.import_module(f"{package}.raw")
    call: Call[Any] = Call(connector, "balance")
    lines = [
        'Khipu reports most errors inside an HTTP 200 body (`Status: "ERROR"`, with',
        "`Error.Code`, `Error.Type` and `Error.Description`). `Error.Type` gives the retry",
        "advice:",
        "",
    ]
    rows = []
    for khipu_type, (advice, after) in envelope.RETRY_TYPES.items():
        wait = f" after {_duration(after.total_seconds())}" if after else ""
        rows.append([code(khipu_type), code(advice.value) + wait])
    rows.append(["any other (a type Khipu adds later)", code(envelope.advice_of("NEW")[0].value)])
    lines += [table(["`Error.Type`", "retry advice"], rows), ""]
    lines += [
        "`Error.Code` gives the category (`ProviderError.category`); the code itself is kept in",
        "`ProviderError.code`:",
        "",
    ]
    rows = []
    for pattern, category in envelope.ERROR_CATEGORIES:
        head = raw.Head(
            OperationId="x",
            Status="ERROR",
            Error=raw.ErrorDetail(Code=_example(pattern.pattern), Type="DO_NOT_RETRY"),
        )
        error = envelope.provider_error(head, call, 200)
        rows.append([code(pattern.pattern), code(category), code(type(error).__name__)])
    lines += [table(["code (regular expression)", "category", "raised"], rows), ""]
    lines += ["Answers that are not HTTP 2xx:", ""]
    rows = []
    for status in (400, 401, 403, 404, 429, 500, 502, 503):
        reply = Reply(status, b"<html>error</html>", {"content-type": "text/html"})
        error = envelope.http_error(reply, call)
        rows.append([str(status), *describe_error(error)])
    lines += [table(["HTTP status", "raised", "category", "retry advice"], rows)]
    return "\n".join(lines)


def _example(pattern: str) -> str:
    return pattern.replace(r"\d{3}", "001").replace(r"\d", "0")


def _belvo(package: str, connector: str) -> str:
    errors = importlib.import_module(f"{package}.errors")
    call: Call[Any] = Call(connector, "balance")
    lines = [
        "Belvo answers errors as a JSON array of `{code, message, request_id}`; the HTTP status",
        "decides the error type and the retry advice, and Belvo's `code`, `message` and",
        "`request_id` are carried unchanged (`ProviderError.code`, `.provider_message`,",
        "`.request_id`):",
        "",
    ]
    rows = []
    for status, rule in sorted(errors.RULES.items()):
        rows.append(
            [str(status), code(rule.error.__name__), code(rule.category), code(rule.retry.value)]
        )
    for status, label in ((503, "any other 5xx"), (418, "any other status")):
        rule = errors.rule_for(status)
        rows.append([label, code(rule.error.__name__), code(rule.category), code(rule.retry.value)])
    lines += [table(["HTTP status", "raised", "category", "retry advice"], rows), ""]
    html = errors.error_for(Reply(502, b"<html></html>", {"content-type": "text/html"}), call)
    lines += [
        "`428 token_required` raises `ChallengeRequired` (see [challenges](../challenges.md)).",
        f"An error body that is not JSON (a proxy's HTML page) raises {code(type(html).__name__)}",
        f"with the status (retry advice {_retry(html)} for a 5xx).",
    ]
    return "\n".join(lines)


EXTRACTORS: dict[str, Callable[[str, str], str]] = {
    "caudal_khipu": _khipu,
    "caudal_belvo": _belvo,
}


def provider_tables(connector_class: type, name: str) -> str | None:
    """The plugin's own error tables for connector `name`, if this module knows the plugin."""
    package = connector_class.__module__.split(".")[0]
    extractor = EXTRACTORS.get(package)
    if extractor is None:
        return None
    return extractor(package, name)


_ = cell  # re-exported helpers stay importable for other generators
