"""No secret is reachable from an error caudal raises: through args, attributes, `__cause__` or
`__context__`, walked as an object graph (`secrets_walk.py`; `__traceback__` frames excluded, see
there). Distinctive secrets (API key, Belvo secret id and password, the end user's institution
password, a challenge token) go through every error path reachable from a host app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from caudal import CaudalError, Challenge, ConfigurationError, Connector, Pending, registry
from caudal.sandbox import serve
from caudal.webhooks import App, Delivery, SQLiteStore
from caudal_khipu.settings import KhipuSettings

from .secrets_walk import reachable
from .server import CALLS, SECRETS, Fault, connect, params, serving

WEBHOOK_SECRET = "WEBHOOK-HMAC-SECRET-e1d4c2b7"
ALL = [*SECRETS.values(), WEBHOOK_SECRET]
CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port


def _caught(action: Callable[[], Any]) -> CaudalError:
    try:
        action()
    except CaudalError as exc:
        return exc
    raise AssertionError("no error raised")


def _clean(error: BaseException) -> None:
    leaks = reachable(error, ALL)
    assert not leaks, f"{type(error).__name__}: {error}\n" + "\n".join(leaks[:10])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    with serving() as running:
        yield running


def _url_with_secrets(base: str) -> str:
    # userinfo and a query carrying the API key: a repr must drop both
    host = base.removeprefix("http://")
    return f"http://user:{SECRETS['password']}@{host}/?key={SECRETS['api_key']}"


def test_the_walk_finds_a_planted_leak() -> None:
    # the walk itself can fail: a secret in a context's args, in an attribute, as bytes
    planted = ValueError("x")
    planted.__context__ = KeyError({"password": SECRETS["password"]})
    assert reachable(planted, ALL)
    validation = ConfigurationError("invalid settings")
    try:
        KhipuSettings(base_url=CLOSED, api_key=[SECRETS["api_key"]])  # type: ignore[arg-type]
    except ValidationError as exc:
        validation.__context__ = exc  # what `raise ... from None` in its except block leaves
    assert reachable(validation, ALL)
    other = RuntimeError()
    other.request = {"headers": [(b"x-api-key", SECRETS["api_key"].encode())]}  # type: ignore[attr-defined]
    assert reachable(other, ALL)


def test_bad_settings_hold_no_secret() -> None:
    errors = [
        _caught(lambda: registry.get("afc.cl", base_url="nope", api_key=SECRETS["api_key"])),
        # a misspelt setting: pydantic's error holds the value given
        _caught(lambda: registry.get("afc.cl", base_url=CLOSED, apikey=SECRETS["api_key"])),
        _caught(lambda: registry.get("afc.cl", base_url=CLOSED, api_key=[SECRETS["api_key"]])),
        _caught(
            lambda: registry.get(
                "belvo.br",
                base_url=CLOSED,
                secret_id=SECRETS["secret_id"],
                secret_password=SECRETS["secret_password"],
                max_attempts="many",
            )
        ),
        _caught(
            lambda: registry.get(
                "belvo.br", base_url=CLOSED, secret_id=SECRETS["secret_id"], secret_password=7
            )
        ),
    ]
    for error in errors:
        _clean(error)


@pytest.mark.parametrize(("connector", "capability", "extra"), CALLS)
def test_bad_parameters_hold_no_secret(connector: str, capability: str, extra: Any) -> None:
    conn = connect(connector, CLOSED)
    bad = {**params(connector, extra), "unexpected": SECRETS["password"]}
    _clean(_caught(lambda: conn.call(capability, bad)))
    if connector != "belvo.br":
        credential = {"Username": "", "Password": SECRETS["password"]}
        _clean(_caught(lambda: conn.call(capability, {**extra, "credential": credential})))


@pytest.mark.parametrize(("connector", "capability", "extra"), CALLS)
def test_transport_failures_hold_no_secret(connector: str, capability: str, extra: Any) -> None:
    conn = connect(connector, CLOSED)
    _clean(_caught(lambda: conn.call(capability, params(connector, extra))))
    _clean(_caught(lambda: asyncio.run(conn.acall(capability, params(connector, extra)))))


FAULTS = [
    Fault(502, b"<html>bad gateway</html>", {"content-type": "text/html"}),
    Fault(401, b""),
    Fault(429, b"slow down", {"retry-after": "1"}),
    Fault(200, b"not json"),
    Fault(200, b'{"OperationId": "op", "Status": "OK", "Data": {"x": 1}}'),
    Fault(200, b"[{}]"),
    Fault(
        200,
        b'{"OperationId": "op", "Status": "ERROR", "Data": null, "Error": '
        b'{"Code": "E101", "Type": "DO_NOT_RETRY", "Description": "bad login"}}',
    ),
    Fault(
        400,
        b'[{"code": "invalid_link", "message": "bad link", "request_id": "r1"}]',
        {"content-type": "application/json"},
    ),
    Fault(200, b'{"OperationId": "op", "Status": "OK", "Data": null}'),
]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.status}-{f.body[:20]!r}")
@pytest.mark.parametrize(("connector", "capability", "extra"), CALLS)
def test_provider_and_mapping_errors_hold_no_secret(
    server: tuple[str, ThreadingHTTPServer],
    fault: Fault,
    connector: str,
    capability: str,
    extra: Any,
) -> None:
    base_url, http = server
    http.fault = fault  # type: ignore[attr-defined]
    for keep_raw in (False, True):
        conn = connect(connector, base_url)
        call = params(connector, extra)
        _clean(_caught(lambda: conn.call(capability, call, keep_raw=keep_raw)))  # noqa: B023
        _clean(_caught(lambda: asyncio.run(conn.acall(capability, call, keep_raw=keep_raw))))  # noqa: B023


def test_a_connector_bug_holds_no_secret(
    monkeypatch: pytest.MonkeyPatch, server: tuple[str, ThreadingHTTPServer]
) -> None:
    def leaking_builder(call: Any) -> Any:
        raise ValueError(f"cannot build with {call.params.credential.Password.get_secret_value()}")

    conn = connect("afc.cl", server[0])
    operation = conn.operation("balance")
    monkeypatch.setitem(
        conn._operations,
        "balance",
        type(operation)(operation.params, leaking_builder, operation.read, operation.callbacks),
    )
    _clean(_caught(lambda: conn.balance(**params("afc.cl", {}))))


def _challenge_body() -> bytes:
    return json.dumps(
        [
            {
                "code": "token_required",
                "message": "token required",
                "request_id": "r-428",
                "session": "session-1",
                "expiry": 300,
                "link": "link-1",
                "token_generation_data": {"instructions": "type it", "type": "numeric"},
            }
        ]
    ).encode()


def test_challenges_and_resume_hold_no_secret(server: tuple[str, ThreadingHTTPServer]) -> None:
    base_url, http = server
    http.fault = Fault(428, _challenge_body(), {"content-type": "application/json"})  # type: ignore[attr-defined]
    conn = connect("belvo.br", base_url)
    challenge = _caught(lambda: conn.balance(link="link-1"))
    _clean(challenge)
    kept = Challenge.model_validate_json(challenge.challenge.model_dump_json())  # type: ignore[attr-defined]
    token = SECRETS["token"]
    for fault in FAULTS[:4]:
        http.fault = fault  # type: ignore[attr-defined]
        _clean(_caught(lambda: conn.resume(kept, token)))
        _clean(_caught(lambda: asyncio.run(conn.aresume(kept, token))))
    offline = connect("belvo.br", CLOSED)
    _clean(_caught(lambda: offline.resume(kept, token)))  # transport: the token in the body
    _clean(_caught(lambda: offline.resume(kept.model_copy(update={"session": ""}), token)))
    expired = kept.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    _clean(_caught(lambda: offline.resume(expired, token)))


def test_reprs_drop_userinfo_and_query(server: tuple[str, ThreadingHTTPServer]) -> None:
    for connector, _, _ in CALLS:
        conn: Connector = connect(connector, _url_with_secrets(server[0]))
        for text in (repr(conn), repr(conn.settings), str(conn.settings)):
            assert not [s for s in ALL if s in text], text


def test_webhook_errors_hold_no_secret(tmp_path: Path) -> None:
    handed: list[Delivery] = []
    app = App(
        secret=WEBHOOK_SECRET,
        public_url="http://placeholder/hooks",
        handler=handed.append,
        store=SQLiteStore(tmp_path / "hooks.sqlite3"),
        connect=lambda name: connect(name, CLOSED),
    )
    _clean(
        _caught(lambda: app.request(connect("afc.cl", CLOSED), "balance", **params("afc.cl", {})))
    )
    _clean(_caught(lambda: App(secret="short", public_url="x", handler=handed.append)))
    import httpx

    with serve([], extra={"/hooks": app.asgi}) as sandbox:
        app.public_url = f"{sandbox.url}/hooks"
        url, ticket = app.callback_url("afc.cl", "balance")
        app.expect(ticket, Pending(connector="afc.cl", capability="balance", operation_id="op-1"))
        error = (
            b'{"OperationId": "op-1", "Status": "ERROR", "Data": null, "Error": '
            b'{"Code": "E101", "Type": "DO_NOT_RETRY", "Description": "bad login"}}'
        )
        answer = httpx.post(url, content=error, timeout=10)
        assert answer.status_code == 200, answer.text
    (delivery,) = handed
    assert delivery.error is not None
    _clean(delivery.error)
