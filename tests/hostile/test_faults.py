"""The fault catalogue for bodies and mapping: each fault gives one typed caudal error, the same
for every connector where the fault is the same, and nothing half-returned."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from caudal import (
    AuthenticationError,
    CaudalError,
    Challenge,
    ConfigurationError,
    ConnectorBug,
    MappingError,
    ProviderError,
    Result,
    RetryAdvice,
    TransportError,
    registry,
)
from caudal.testing import hostile

from .server import CALLS, Fault, connect, params, serving
from .targets import BY_NAME, TARGETS

OFFLINE = {"base_url": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    with serving() as running:
        yield running


# -- the same HTTP fault, the same error, whatever the connector ---------------------------------

BARE_STATUSES = [
    # (status, body, content type) -> (error type, retry advice)
    (
        502,
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
        TransportError,
        "now",
    ),
    (503, b"Service Unavailable", "text/plain", TransportError, "now"),
    (500, b"", "", TransportError, "now"),
    (500, b'{"unexpected": "shape"}', "application/json", TransportError, "now"),
    (404, b"<html>Not Found</html>", "text/html", TransportError, "never"),
    (400, b"\xff\xfe", "", TransportError, "never"),
    (401, b"", "", AuthenticationError, "never"),
    (403, b"<html>Forbidden by WAF</html>", "text/html", AuthenticationError, "never"),
    (429, b"slow down", "text/plain", ProviderError, "now"),
]


@pytest.mark.parametrize(("status", "body", "kind", "error", "retry"), BARE_STATUSES)
def test_a_bare_status_is_classified_the_same_by_every_connector(
    server: tuple[str, ThreadingHTTPServer],
    status: int,
    body: bytes,
    kind: str,
    error: type[CaudalError],
    retry: str,
) -> None:
    base_url, http = server
    http.fault = Fault(status, body, {"content-type": kind} if kind else {})  # type: ignore[attr-defined]
    seen = set()
    for connector, capability, extra in CALLS:
        with connect(connector, base_url) as conn, pytest.raises(CaudalError) as caught:
            conn.call(capability, params(connector, extra))
        got = caught.value
        assert type(got) is error, f"{connector} {capability}: {got!r}"
        assert (got.status, got.retry) == (status, RetryAdvice(retry)), connector  # type: ignore[attr-defined]
        seen.add((type(got), got.retry, getattr(got, "category", None)))  # type: ignore[attr-defined]
    assert len(seen) == 1, seen


# -- bodies that are not what they seem ------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.connector}:{t.capability}")
def test_a_json_string_wrapping_a_valid_body_is_refused(target: Any) -> None:
    valid = hostile.framed(target.frame, hostile.repeated(target.item, 2000))
    with registry.get(target.connector, **OFFLINE) as conn:
        assert conn.parse(target.capability, valid).items  # the body itself maps
        wrapped = b'"' + valid.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
        with pytest.raises(MappingError, match="valid"):
            conn.parse(target.capability, wrapped)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.connector}:{t.capability}")
def test_a_str_body_with_a_lone_surrogate_is_a_mapping_error(target: Any) -> None:
    text = hostile.framed(target.frame, hostile.repeated(target.item, 2000)).decode()
    inside = text.index('"') + 1  # in the first key: a string Python holds but UTF-8 cannot
    broken = text[:inside] + "\ud800" + text[inside:]
    conn = registry.get(target.connector, **OFFLINE)
    with conn, pytest.raises(MappingError, match="surrogate"):
        conn.parse(target.capability, broken)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.connector}:{t.capability}")
@pytest.mark.parametrize("number", [b"1e999999", b"-1e999999", b"1E+32", b"9" * 40])
def test_an_unbounded_amount_is_refused_by_every_connector(target: Any, number: bytes) -> None:
    amount_key = b'"available": -658.83' if target.connector == "belvo.br" else None
    item = target.item
    if amount_key:
        item = item.replace(amount_key, b'"available": ' + number)
    else:
        item = item.replace(b'"Amount": 3074709', b'"Amount": ' + number)
        item = item.replace(b'"TaxedAmount": 36000', b'"TaxedAmount": ' + number)
        item = item.replace(b'"Amount": 13843094.5', b'"Amount": ' + number.lstrip(b"-"))
        item = item.replace(b'"Amount": 10990', b'"Amount": ' + number.lstrip(b"-"))
    assert item != target.item
    body = hostile.framed(target.frame, b"[" + target.item + b"," + item + b"]")
    conn = registry.get(target.connector, **OFFLINE)
    with conn, pytest.raises(MappingError) as caught:
        conn.parse(target.capability, body)
    assert "[1]" in caught.value.path


@pytest.mark.parametrize("amount", [b"3074709.5", b"0.01", b"-1.25"])
def test_a_fractional_peso_from_afc_is_refused(amount: bytes) -> None:
    target = BY_NAME["afc.cl:balance"]
    body = hostile.framed(target.frame, b"[" + target.item.replace(b"3074709", amount) + b"]")
    with registry.get("afc.cl", **OFFLINE) as conn, pytest.raises(MappingError) as caught:
        conn.parse("balance", body)
    assert caught.value.path == "$.Data.ContributionsBalance.Details[0].Amount"
    assert "whole amount" in caught.value.reason


def test_a_whole_peso_written_with_zero_decimals_is_kept_as_sent() -> None:
    target = BY_NAME["afc.cl:balance"]
    body = hostile.framed(
        target.frame, b"[" + target.item.replace(b"3074709", b"3074709.00") + b"]"
    )
    with registry.get("afc.cl", **OFFLINE) as conn:
        (balance,) = conn.parse("balance", body)
    assert str(balance.breakdown[0].amount.amount) == "3074709.00"


# -- a MappingError reports the first problems and how many ---------------------------------------


def test_a_mapping_error_lists_the_first_problems_with_paths_and_a_lower_bound() -> None:
    target = BY_NAME["belvo.br:balance"]
    body = hostile.body("empty_objects", 100_000)
    with registry.get(target.connector, **OFFLINE) as conn, pytest.raises(MappingError) as caught:
        conn.parse(target.capability, body)
    error = caught.value
    assert error.path == "$[0].id"
    assert [p for p, _ in error.problems] == [
        "$[0].id",
        "$[0].link",
        "$[0].account_id",
        "$[0].account_internal_identification",
        "$[0].collected_at",
    ]
    assert error.problem_count == 11 and not error.problem_count_exact
    assert "at least 10 more problems" in str(error) and "stopped" in str(error)


def test_a_problem_count_outside_any_list_is_exact() -> None:
    with registry.get("afc.cl", **OFFLINE) as conn, pytest.raises(MappingError) as caught:
        conn.parse("balance", b'{"Status": "MAYBE"}')
    error = caught.value
    assert error.problem_count_exact and error.problem_count == 2
    assert str(error).endswith("(and 1 more problem: at $.Status: Input should be 'OK' or 'ERROR')")


# -- a bug in mapping code is never the provider's fault -------------------------------------------

BUGS = [
    ("belvo.br:balance", "caudal_belvo.mapping", "balances_of"),
    ("afc.cl:balance", "caudal_khipu.afc", "_share"),
    ("afc.cl:contributions", "caudal_khipu.afc", "_contribution"),
    ("bancosecurity.cl:balance", "caudal_khipu.bancosecurity", "_balance"),
    ("bancosecurity.cl:loans", "caudal_khipu.bancosecurity", "_loan"),
]


@pytest.mark.parametrize(("name", "module", "function"), BUGS)
@pytest.mark.parametrize("bug", [AttributeError, KeyError, TypeError, ZeroDivisionError])
def test_a_bug_in_a_mapper_is_a_connector_bug_not_a_mapping_error(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str, function: str, bug: type[Exception]
) -> None:
    def planted(*args: Any) -> Any:
        raise bug("planted")

    monkeypatch.setattr(f"{module}.{function}", planted)
    target = BY_NAME[name]
    body = hostile.framed(target.frame, hostile.repeated(target.item, 1000))
    with registry.get(target.connector, **OFFLINE) as conn, pytest.raises(ConnectorBug) as caught:
        conn.parse(target.capability, body)
    error = caught.value
    assert not isinstance(error, MappingError)
    assert error.bug == bug.__name__ and "planted" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    frames = [f.name for f in traceback.extract_tb(error.__traceback__)]
    assert "planted" in frames  # the developer sees where it happened


def test_a_bug_while_building_a_request_is_a_connector_bug_without_its_message(
    monkeypatch: pytest.MonkeyPatch, server: tuple[str, ThreadingHTTPServer]
) -> None:
    def planted(call: Any) -> Any:
        raise ValueError(f"cannot use {call.params.link}")

    # the hook builds its Operation on first use, from the module's function
    monkeypatch.setattr("caudal_belvo.connector.balances_request", planted)
    conn = connect("belvo.br", server[0])
    with conn, pytest.raises(ConnectorBug) as caught:
        conn.balance(link="a-distinctive-link")
    assert "ValueError" in str(caught.value) and "a-distinctive-link" not in str(caught.value)
    assert caught.value.__context__ is None


# -- resume with what cannot be resumed ------------------------------------------------------------


def _challenge(**overrides: Any) -> Challenge:
    fields: dict[str, Any] = {
        "connector": "belvo.br",
        "capability": "balance",
        "params": {"link": "link-1"},
        "session": "session-1",
        "expires_at": datetime.now(UTC) + timedelta(minutes=5),
        "link": "link-1",
        **overrides,
    }
    return Challenge(**fields)


@pytest.mark.parametrize(
    ("challenge", "token", "said"),
    [
        ({"session": ""}, "123456", "empty session"),
        ({}, "", "token is empty"),
    ],
)
def test_resume_with_nothing_to_resume_is_a_configuration_error(
    server: tuple[str, ThreadingHTTPServer], challenge: dict[str, Any], token: str, said: str
) -> None:
    with connect("belvo.br", server[0]) as conn, pytest.raises(ConfigurationError, match=said):
        conn.resume(_challenge(**challenge), token)


# -- any hostile JSON: a Result or a typed error, never a crash ----------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.connector}:{t.capability}")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=hostile.hostile_json())  # type: ignore[arg-type]
def test_any_hostile_json_gives_a_result_or_a_provider_or_mapping_error(
    target: Any, data: bytes
) -> None:
    for body in (data, hostile.framed(target.frame, data)):
        with registry.get(target.connector, **OFFLINE) as conn:
            outcome: object
            try:
                outcome = conn.parse(target.capability, body)
            except (MappingError, ProviderError) as exc:
                outcome = exc
            if isinstance(outcome, CaudalError):
                assert outcome.__context__ is None and outcome.__cause__ is None
            else:
                assert isinstance(outcome, Result)


def test_every_list_inside_a_raw_model_is_fail_fast() -> None:
    from pydantic import BaseModel, TypeAdapter

    from caudal_belvo.errors import ERRORS, TOKEN_REQUIRED
    from caudal_belvo.mapping import BALANCES
    from caudal_khipu import afc, bancosecurity

    endpoints = [afc.BALANCE, afc.CONTRIBUTIONS, bancosecurity.BALANCE, bancosecurity.LOANS]
    adapters = [e.envelope for e in endpoints] + [e.item for e in endpoints]
    adapters += [BALANCES, ERRORS, TOKEN_REQUIRED]
    for adapter in adapters:
        assert hostile.unbounded_lists(adapter) == [], adapter

    class Unbounded(BaseModel):  # the check itself can fail
        items: list[int]

    assert hostile.unbounded_lists(TypeAdapter(list[Unbounded])) != []
